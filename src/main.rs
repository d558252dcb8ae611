use clap::Parser;

fn main() {
    let cli = match aerie::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                aerie::exit::USAGE
            } else {
                0
            };
            let _ = err.print();
            std::process::exit(code);
        }
    };
    if let Err(err) = aerie::commands::run(cli) {
        let code = aerie::commands::exit_code(&err);
        if err.downcast_ref::<aerie::exit::Reported>().is_none() {
            if let Some(invalid) = err.downcast_ref::<aerie::site::InvalidSite>() {
                eprintln!("{invalid}");
            } else {
                eprintln!("aerie: error: {err:#}");
            }
        }
        std::process::exit(code);
    }
}
