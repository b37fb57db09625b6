complete --keep-order --exclusive --command wixauth --arguments "(_WIXAUTH_COMPLETE=fish wixauth -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
