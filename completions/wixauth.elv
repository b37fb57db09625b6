
set edit:completion:arg-completer[wixauth] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) _WIXAUTH_COMPLETE="elvish" wixauth -- $@words) | to-lines
}

