fn main() -> std::process::ExitCode {
    wixauth::main()
}
