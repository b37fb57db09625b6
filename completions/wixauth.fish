# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_wixauth_global_optspecs
    string join \n profile= instance= v/verbose h/help V/version
end

function __fish_wixauth_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_wixauth_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_wixauth_using_subcommand
    set -l cmd (__fish_wixauth_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c wixauth -n "__fish_wixauth_needs_command" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_needs_command" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_needs_command" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wixauth -n "__fish_wixauth_needs_command" -s V -l version -d 'Print version'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "login" -d 'Store an app\'s credentials and authorise an app instance'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "token" -d 'Print a valid access token (and nothing else) on stdout'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "status" -d 'Show what is stored for each profile'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "logout" -d 'Forget an instance (or with --all, the whole profile) from every local store'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "bi-event" -d 'Send a BI event for the instance (`finished` marks setup complete)'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "api" -d 'Make an authenticated request to the Wix REST API'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "exec" -d 'Run a command with WIX_ACCESS_TOKEN, WIX_APP_ID and WIX_INSTANCE_ID in its environment'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "whoami" -d 'Show what Wix says about the token and the app instance'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "install-url" -d 'Print the installer URL for the profile (to share, or to open by hand)'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "webhook" -d 'Verify and decode Wix\'s signed webhook events; a local receiver that saves installs'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "switch" -d 'Choose the active profile and the profile\'s default instance'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "doctor" -d 'Check the secret store, files, clock, credentials, port, browser and proxies'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c wixauth -n "__fish_wixauth_needs_command" -f -a "help" -d 'Help for a command, or a topic: `wixauth help environment`'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l flow -d 'How the app gets tokens [default: the profile\'s; asked the first time on a TTY; else basic]' -r -f -a "basic\t'Client credentials: app id + app secret + instance id → 4-hour tokens'
advanced\t'Legacy custom authentication: browser consent → refresh token → 5-minute tokens'"
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l app-id -d 'App ID from the app dashboard [env: WIX_APP_ID]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l instance-id -d 'Basic flow: the instance to authorise, without a browser' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l redirect-url -d 'Redirect URL registered in the app dashboard; the local listener binds its host and port' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l timeout -d 'Seconds to wait for the browser' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l secret-stdin -d 'Read the app secret from the first line of stdin (never pass it as an argument)'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l no-browser -d 'Print the installer URL instead of opening a browser'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l no-close-window -d 'Show a local success page instead of redirecting to Wix\'s close-window page'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -l json -d 'Print the summary as JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l min-ttl -d 'Reuse a cached token only with at least this many seconds left' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l flow -d 'Override the instance\'s flow' -r -f -a "basic\t'Client credentials: app id + app secret + instance id → 4-hour tokens'
advanced\t'Legacy custom authentication: browser consent → refresh token → 5-minute tokens'"
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l header -d 'Print `Authorization: <token>` (for `curl -H @-`)'
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l json -d 'Print the token and its metadata as JSON'
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -l no-cache -d 'Always get a new token from Wix'
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -l json -d 'Print JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -l check -d 'Also ask Wix whether the credentials work'
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand status" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -l all -d 'Forget the whole profile, app secret included (not with --instance)'
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -s y -l yes -d 'Do not ask before forgetting the whole profile on a terminal'
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -l json -d 'Print what was removed as JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand logout" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -l custom-name -d 'The custom event\'s name (required with CUSTOM)' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -l data -d 'Event data as key=value (repeatable), e.g. --data cycle_name=monthly' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -l json -d 'Print the result as JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand bi-event" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s X -l method -d 'HTTP method [default: GET, or POST when a body is given]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s d -l data -d 'JSON body: literal JSON, @file, or @- for stdin' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s H -l header -d 'Extra request header `Name: value` (repeatable)' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s i -l include -d 'Print the status line and response headers before the body'
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand api" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand exec" -l min-ttl -d 'The token must stay valid for at least this many seconds (e.g. the job\'s length)' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand exec" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand exec" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand exec" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand exec" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand whoami" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand whoami" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand whoami" -l json -d 'Print JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand whoami" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand whoami" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -l flow -d 'Which installer [default: the profile\'s flow]' -r -f -a "basic\t'Client credentials: app id + app secret + instance id → 4-hour tokens'
advanced\t'Legacy custom authentication: browser consent → refresh token → 5-minute tokens'"
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -l json -d 'Print JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand install-url" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -f -a "set-key" -d 'Store the app\'s webhook public key in the profile (config.toml: the key is public)'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -f -a "verify" -d 'Verify one delivery (the raw request body, a JWT) and print the event as JSON'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and not __fish_seen_subcommand_from set-key verify listen" -f -a "listen" -d 'Receive deliveries on localhost behind a tunnel: verify, print, forward, save instances'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from set-key" -l public-key -d 'The key itself (PEM or base64 of it), or @FILE, instead of FILE' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from set-key" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from set-key" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from set-key" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from set-key" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -l public-key -d 'The app\'s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile\'s]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -l ignore-expiry -d 'Accept an expired event (replaying an old delivery)'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l port -d 'Port on 127.0.0.1 and ::1 (point the tunnel here)' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l path -d 'URL path Wix posts to' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l forward-to -d 'Also relay each valid delivery (raw body and content type) to your own server on this machine' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l public-key -d 'The app\'s webhook public key: PEM, base64 of it, or @FILE [default: WIX_WEBHOOK_PUBLIC_KEY, else the profile\'s]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l save-instances -d 'Add installed instances to the profile (and forget removed ones)'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -l once -d 'Exit after the first valid event'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand webhook; and __fish_seen_subcommand_from listen" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand switch" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand switch" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand switch" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand switch" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand doctor" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand doctor" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand doctor" -l json -d 'Print the checks as JSON on stdout'
complete -c wixauth -n "__fish_wixauth_using_subcommand doctor" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand completions" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand completions" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand completions" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand completions" -s h -l help -d 'Print help'
complete -c wixauth -n "__fish_wixauth_using_subcommand help" -l profile -d 'Profile: a named app configuration (one Wix app) [env: WIXAUTH_PROFILE]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand help" -l instance -d 'App instance (site) to act for [env: WIX_INSTANCE_ID] [default: the profile\'s last logged-in instance]' -r
complete -c wixauth -n "__fish_wixauth_using_subcommand help" -s v -l verbose -d 'Debug log on stderr (requests, cache, store); secrets are redacted'
complete -c wixauth -n "__fish_wixauth_using_subcommand help" -s h -l help -d 'Print help'
