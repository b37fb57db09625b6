
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'wixauth' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'wixauth'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'wixauth' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Store an app''s credentials and authorise an app instance')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a valid access token (and nothing else) on stdout')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what is stored for each profile')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget an instance (or with --all, the whole profile) from every local store')
            [CompletionResult]::new('bi-event', 'bi-event', [CompletionResultType]::ParameterValue, 'Send a BI event for the instance (`finished` marks setup complete)')
            [CompletionResult]::new('api', 'api', [CompletionResultType]::ParameterValue, 'Make an authenticated request to the Wix REST API')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID in its environment')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show what Wix says about the token and the app instance')
            [CompletionResult]::new('install-url', 'install-url', [CompletionResultType]::ParameterValue, 'Print the installer URL for the profile (to share, or to open by hand)')
            [CompletionResult]::new('webhook', 'webhook', [CompletionResultType]::ParameterValue, 'Verify and decode Wix''s signed webhook events; a local receiver that saves installs')
            [CompletionResult]::new('switch', 'switch', [CompletionResultType]::ParameterValue, 'Choose the active profile and the profile''s default instance')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the secret store, files, clock, credentials, port, browser and proxies')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Help for a command, or a topic: `wixauth help environment`')
            break
        }
        'wixauth;login' {
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'How the app gets tokens [default: the profile''s; asked the first time on a TTY; else basic]')
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'App ID from the app dashboard [env: WIX_APP_ID]')
            [CompletionResult]::new('--instance-id', '--instance-id', [CompletionResultType]::ParameterName, 'Basic flow: the instance to authorise, without a browser')
            [CompletionResult]::new('--redirect-url', '--redirect-url', [CompletionResultType]::ParameterName, 'Redirect URL registered in the app dashboard; the local listener binds its host and port')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the browser')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read the app secret from the first line of stdin (never pass it as an argument)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the installer URL instead of opening a browser')
            [CompletionResult]::new('--no-close-window', '--no-close-window', [CompletionResultType]::ParameterName, 'Show a local success page instead of redirecting to Wix''s close-window page')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wixauth;token' {
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Reuse a cached token only with at least this many seconds left')
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'Override the instance''s flow')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Print `Authorization: <token>` (for `curl -H @-`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the token and its metadata as JSON')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Always get a new token from Wix')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wixauth;status' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Also ask Wix whether the credentials work')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Forget the whole profile, app secret included (not with --instance)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask before forgetting the whole profile on a terminal')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask before forgetting the whole profile on a terminal')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print what was removed as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;bi-event' {
            [CompletionResult]::new('--custom-name', '--custom-name', [CompletionResultType]::ParameterName, 'The custom event''s name (required with CUSTOM)')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Event data as key=value (repeatable), e.g. --data cycle_name=monthly')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;api' {
            [CompletionResult]::new('-X', '-X ', [CompletionResultType]::ParameterName, 'HTTP method [default: GET, or POST when a body is given]')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'HTTP method [default: GET, or POST when a body is given]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'JSON body: literal JSON, @file, or @- for stdin')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'JSON body: literal JSON, @file, or @- for stdin')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Extra request header `Name: value` (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra request header `Name: value` (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Print the status line and response headers before the body')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Print the status line and response headers before the body')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;exec' {
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'The token must stay valid for at least this many seconds (e.g. the job''s length)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;whoami' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;install-url' {
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'Which installer [default: the profile''s flow]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'wixauth;webhook' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('set-key', 'set-key', [CompletionResultType]::ParameterValue, 'Store the app''s webhook public key in the profile (config.toml: the key is public)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify one delivery (the raw request body, a JWT) and print the event as JSON')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Receive deliveries on localhost behind a tunnel: verify, print, forward, save instances')
            break
        }
        'wixauth;webhook;set-key' {
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'The key itself (PEM or base64 of it), or @FILE, instead of FILE')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;webhook;verify' {
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'The app''s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--ignore-expiry', '--ignore-expiry', [CompletionResultType]::ParameterName, 'Accept an expired event (replaying an old delivery)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;webhook;listen' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 and ::1 (point the tunnel here)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'URL path Wix posts to')
            [CompletionResult]::new('--forward-to', '--forward-to', [CompletionResultType]::ParameterName, 'Also relay each valid delivery (raw body and content type) to your own server on this machine')
            [CompletionResult]::new('--public-key', '--public-key', [CompletionResultType]::ParameterName, 'The app''s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--save-instances', '--save-instances', [CompletionResultType]::ParameterName, 'Add installed instances to the profile (and forget removed ones)')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Exit after the first valid event')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;switch' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;doctor' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the checks as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'wixauth;help' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Debug log on stderr (requests, cache, store); secrets are redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
