use clap::Parser;
use consular_desk::cli::{self, Cli};
use consular_desk::config::Settings;

fn main() {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("consular-desk: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = cli::run(cli, settings) {
        eprintln!("consular-desk: {e:#}");
        std::process::exit(1);
    }
}
