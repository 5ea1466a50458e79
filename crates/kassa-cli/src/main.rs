//! `kassa-cli`: Kassa's headless command line. Every command is a thin call into `kassa-core`.
//!
//! Exit status: 0 success, 1 a declined/cancelled/expired/failed payment, 2 invalid input,
//! 3 a provider, network or system error.

mod quote_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kassa-cli",
    version,
    about = "Kassa counter checkout, headless"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Price an order document: lines, VAT per rate and totals, exact to the minor unit.
    Quote {
        /// The order JSON file, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        order: String,
        /// Print the priced order as JSON (amounts in minor units).
        #[arg(long)]
        json: bool,
    },
}

/// How a command failed, and so which exit status it gets.
pub enum Failure {
    /// Bad input from the user: exit status 2.
    Invalid(String),
    /// A system, provider or network problem: exit status 3.
    System(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quote { order, json } => quote_cmd::run(&order, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(Failure::System(message)) => {
            eprintln!("kassa-cli: {message}");
            ExitCode::from(3)
        }
    }
}

/// Reads a file argument, `-` meaning standard input.
pub fn read_input(path: &str) -> Result<String, Failure> {
    use std::io::Read;
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Invalid(format!("cannot read standard input: {e}")))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Invalid(format!("cannot read {path}: {e}")))?;
    }
    Ok(text)
}
