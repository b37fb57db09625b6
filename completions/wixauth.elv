
use builtin;
use str;

set edit:completion:arg-completer[wixauth] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'wixauth'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'wixauth'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand login 'Store an app''s credentials and authorise an app instance'
            cand token 'Print a valid access token (and nothing else) on stdout'
            cand status 'Show what is stored for each profile'
            cand logout 'Forget an instance (or with --all, the whole profile) from every local store'
            cand bi-event 'Send a BI event for the instance (`finished` marks setup complete)'
            cand api 'Make an authenticated request to the Wix REST API'
            cand exec 'Run a command with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID in its environment'
            cand whoami 'Show what Wix says about the token and the app instance'
            cand install-url 'Print the installer URL for the profile (to share, or to open by hand)'
            cand webhook 'Verify and decode Wix''s signed webhook events; a local receiver that saves installs'
            cand switch 'Choose the active profile and the profile''s default instance'
            cand doctor 'Check the secret store, files, clock, credentials, port, browser and proxies'
            cand completions 'Print a shell completion script'
            cand help 'Help for a command, or a topic: `wixauth help environment`'
        }
        &'wixauth;login'= {
            cand --flow 'How the app gets tokens [default: the profile''s; asked the first time on a TTY; else basic]'
            cand --app-id 'App ID from the app dashboard [env: WIX_APP_ID]'
            cand --instance-id 'Basic flow: the instance to authorise, without a browser'
            cand --redirect-url 'Redirect URL registered in the app dashboard; the local listener binds its host and port'
            cand --timeout 'Seconds to wait for the browser'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --secret-stdin 'Read the app secret from the first line of stdin (never pass it as an argument)'
            cand --no-browser 'Print the installer URL instead of opening a browser'
            cand --no-close-window 'Show a local success page instead of redirecting to Wix''s close-window page'
            cand --json 'Print the summary as JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'wixauth;token'= {
            cand --min-ttl 'Reuse a cached token only with at least this many seconds left'
            cand --flow 'Override the instance''s flow'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --header 'Print `Authorization: <token>` (for `curl -H @-`)'
            cand --json 'Print the token and its metadata as JSON'
            cand --no-cache 'Always get a new token from Wix'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'wixauth;status'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --json 'Print JSON on stdout'
            cand --check 'Also ask Wix whether the credentials work'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;logout'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --all 'Forget the whole profile, app secret included (not with --instance)'
            cand -y 'Do not ask before forgetting the whole profile on a terminal'
            cand --yes 'Do not ask before forgetting the whole profile on a terminal'
            cand --json 'Print what was removed as JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;bi-event'= {
            cand --custom-name 'The custom event''s name (required with CUSTOM)'
            cand --data 'Event data as key=value (repeatable), e.g. --data cycle_name=monthly'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --json 'Print the result as JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;api'= {
            cand -X 'HTTP method [default: GET, or POST when a body is given]'
            cand --method 'HTTP method [default: GET, or POST when a body is given]'
            cand -d 'JSON body: literal JSON, @file, or @- for stdin'
            cand --data 'JSON body: literal JSON, @file, or @- for stdin'
            cand -H 'Extra request header `Name: value` (repeatable)'
            cand --header 'Extra request header `Name: value` (repeatable)'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -i 'Print the status line and response headers before the body'
            cand --include 'Print the status line and response headers before the body'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;exec'= {
            cand --min-ttl 'The token must stay valid for at least this many seconds (e.g. the job''s length)'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;whoami'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --json 'Print JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;install-url'= {
            cand --flow 'Which installer [default: the profile''s flow]'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --json 'Print JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'wixauth;webhook'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
            cand set-key 'Store the app''s webhook public key in the profile (config.toml: the key is public)'
            cand verify 'Verify one delivery (the raw request body, a JWT) and print the event as JSON'
            cand listen 'Receive deliveries on localhost behind a tunnel: verify, print, forward, save instances'
        }
        &'wixauth;webhook;set-key'= {
            cand --public-key 'The key itself (PEM or base64 of it), or @FILE, instead of FILE'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;webhook;verify'= {
            cand --public-key 'The app''s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile''s]'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --ignore-expiry 'Accept an expired event (replaying an old delivery)'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;webhook;listen'= {
            cand --port 'Port on 127.0.0.1 and ::1 (point the tunnel here)'
            cand --path 'URL path Wix posts to'
            cand --forward-to 'Also relay each valid delivery (raw body and content type) to your own server on this machine'
            cand --public-key 'The app''s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile''s]'
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --save-instances 'Add installed instances to the profile (and forget removed ones)'
            cand --once 'Exit after the first valid event'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;switch'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;doctor'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand --json 'Print the checks as JSON on stdout'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;completions'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'wixauth;help'= {
            cand --profile 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]'
            cand --instance 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile''s last logged-in instance]'
            cand -v 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand --verbose 'Debug log on stderr (requests, cache, store); secrets are redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
    ]
    $completions[$command]
}
