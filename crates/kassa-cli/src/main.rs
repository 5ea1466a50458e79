//! `kassa-cli`: Kassa's headless command line. Every command is a thin call into `kassa-core`.
//!
//! Exit status: 0 success, 1 a declined/cancelled/expired/failed payment (or a journal that
//! does not verify), 2 invalid input (a wrong PIN, a cashier asking what needs a manager), 3 a
//! provider, network or system error (the journal's signing key not in the keyring).

mod charge_cmd;
mod config_cmd;
mod credentials_cmd;
mod follow_cmd;
mod hub_cmd;
mod journal_cmd;
mod link_cmd;
mod operations_cmd;
mod operator_cmd;
mod product_cmd;
mod quote_cmd;
mod receipt_cmd;
mod report_cmd;
mod saft_cmd;
mod sessions_cmd;
mod station;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kassa-cli",
    version,
    about = "Kassa counter checkout, headless"
)]
struct Cli {
    /// Kassa's data directory (settings, session log). Default: $KASSA_DATA_DIR, else the
    /// platform's app data directory (~/.local/share/no.kassa.app on Linux).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Act as this operator (its PIN from $KASSA_PIN, else asked at the terminal). Needed once
    /// operators are configured; without any, Kassa runs as operator 1, the owner.
    #[arg(long, global = true, value_name = "ID")]
    operator: Option<i64>,
    #[command(subcommand)]
    command: Command,
}

/// `--operator`, for the station that logs the operator in when a command first acts
/// (`operator_cmd::authenticate`). Set once, before any command runs.
static OPERATOR: std::sync::OnceLock<Option<i64>> = std::sync::OnceLock::new();

/// The operator `--operator` named, if any.
pub fn operator_flag() -> Option<i64> {
    OPERATOR.get().copied().flatten()
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
    /// Provider secrets in the OS keyring (values are never printed).
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Non-secret settings (account ids, URLs, the shop).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Charge an order: create a checkout session at a provider and print its URL.
    ///
    /// Exit status: 0 paid (or created, without --wait), 1 declined/cancelled/expired/failed,
    /// 2 invalid input, 3 provider or network error.
    Charge(charge_cmd::ChargeArgs),
    /// Unpaid link sales (open, or ended unpaid and not renewed within a week), newest first:
    /// amount, time left, the customer's contact (masked) and status.
    Links {
        #[arg(long)]
        json: bool,
    },
    /// A new link for the order of an expired or cancelled link sale (a session is never
    /// reused), sent again to the same customer unless --send-sms/--send-email say otherwise.
    Renew(link_cmd::RenewArgs),
    /// Have the provider send an open link again (Klarna: SMS or e-mail; Bambora: e-mail;
    /// Dintero sends only when a link is created). Exit status 2 where the provider cannot.
    Resend {
        id: String,
        #[command(flatten)]
        send: link_cmd::SendArgs,
        #[arg(long)]
        json: bool,
    },
    /// Follow every open session (counter sales every 2 s, links slowing with age, within
    /// each provider's request budget) until interrupted: paid sales get their receipt entry
    /// as at the counter. Prints each session that is no longer open.
    Follow {
        /// One pass: ask every open session once, print its status, exit.
        #[arg(long)]
        once: bool,
        #[arg(long)]
        json: bool,
    },
    /// Ask the provider for a session's status and record it.
    Status {
        /// Kassa's session id.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Hand a session the return URL its checkout page reached in a browser Kassa does not
    /// control (e.g. Bambora's accept URL with `txnid` and `hash`): the provider checks it, then
    /// is asked for the status.
    Returned {
        /// Kassa's session id.
        id: String,
        /// The full URL, with the query the provider appended.
        url: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel an open session at the provider.
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Record what staff found for a session the provider cannot confirm (Opencharge; any
    /// session in needs_review or unknown): `claimed` (the customer says they paid: the session needs
    /// review), then `paid` or `not-paid` after checking the provider's back office. Logged
    /// as confirmed by staff, never as the provider's evidence.
    Review {
        id: String,
        /// claimed, paid or not-paid.
        verdict: String,
        /// What staff checked (kept in the session log).
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Capture a paid session's authorization at its provider (all that is still authorized, or
    /// --amount). Exit status: 0 done, 2 refused before sending (not paid, more than is
    /// authorized…), 3 provider or network error.
    Capture {
        /// Kassa's session id.
        id: String,
        /// Minor units to capture (default: all that is still authorized).
        #[arg(long, value_name = "MINOR")]
        amount: Option<i64>,
        /// Print the operation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Refund a paid session: all of it, --amount (spread over its lines), or --line N:QTY
    /// (repeatable). --recorded records a refund made outside Kassa (providers without a refund
    /// API). Exit status: 0 done, 2 refused before sending (not paid, more than is refundable…),
    /// 3 provider or network error.
    Refund(operations_cmd::RefundArgs),
    /// Void a paid session's authorization that nothing was captured from. Exit status: 0
    /// done, 2 refused (captured, already voided…), 3 provider or network error.
    Void {
        id: String,
        /// Print the operation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List sessions from the session log, newest first (--shop: every till's, from the hub).
    Sessions {
        /// Every till's sessions, from the shop's hub (needs hub.url and the hub reachable).
        #[arg(long)]
        shop: bool,
        #[command(flatten)]
        filter: sessions_cmd::FilterArgs,
        /// At most this many (a page).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// The next page: sessions older than this id (the last id of the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One session with all its events.
    Session {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Export sessions as CSV (RFC 4180, UTF-8, a header row, one row per session).
    Export {
        /// The CSV file to write, or `-` for standard output.
        #[arg(long, value_name = "FILE")]
        csv: String,
        #[command(flatten)]
        filter: sessions_cmd::FilterArgs,
    },
    /// The electronic journal: verify its chain and signatures, list its entries, print the
    /// signing key's public key.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Operators: who may work the till (name, number, PIN, cashier or manager).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// A sale's receipt (or a return's): show it, print it, save it as PDF; a second print is
    /// the copy (journaled, marked KOPI, one per receipt).
    Receipt(receipt_cmd::ReceiptArgs),
    /// Close the day: an X report (the totals so far, resets nothing) or the Z report (closes
    /// the period since the last Z; one per register per day). Both are journaled in full.
    /// Exit status: 0 made, 2 refused (a Z of today exists already).
    Report(report_cmd::ReportArgs),
    /// Export the journal as a SAF-T Cash Register file (Norway, schema v1.00) for the tax
    /// office: the register's events and its signed sales and returns for those local dates.
    Saft {
        /// From this local date (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// To this local date (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// The file to write, or a directory: then `SAF-T Cash Register_<org number>_<yyyymmddhhmmss>_<n>.xml` in it.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The shop's hub (several tills): what waits to be pushed, push now, push in the
    /// background.
    #[command(subcommand)]
    Hub(HubCommand),
    /// The product list (SKU, name, price, VAT): changes are journaled and shared through the
    /// hub.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Run the provider sandbox (strict emulators of the providers' APIs) on loopback.
    Sandbox {
        /// The port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

#[derive(Subcommand)]
enum CredentialsCommand {
    /// Store a secret, read from standard input (hidden when typed at a terminal).
    Set {
        provider: String,
        field: String,
        /// test or live; default: the provider's `profile` setting.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Which secrets are set, per provider and profile (never their values).
    List,
    /// Remove a secret from the keyring.
    Delete {
        provider: String,
        field: String,
        #[arg(long)]
        profile: Option<String>,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Recompute the whole chain and every signature. Exit 0 with a summary, 1 naming the first
    /// entry that does not verify.
    Verify,
    /// List entries (by the till's local date).
    List {
        /// From this date (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// To this date (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the register's public key (PEM, "BEGIN PUBLIC KEY") for the tax office; creates
    /// the signing key on first use.
    PublicKey,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the PIN (4 to 16 digits) is read from standard input. Needs a manager
    /// (the first operator must be one).
    Add(operator_cmd::AddArgs),
    /// List the operators (never their PINs).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an operator (kept in the journal; never the last manager). Needs a manager.
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum HubCommand {
    /// Connected or not, what waits per kind, the last push and the lag (read offline).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Push everything now, then pull the product list into products.json. Exit 1 when the
    /// hub refused an entry, 3 when it cannot be reached.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Push in the foreground every second, backing off while the hub is unreachable.
    Run,
}

#[derive(Subcommand)]
enum ProductCommand {
    /// Add a product or change the one with this SKU.
    Add(product_cmd::AddArgs),
    List {
        #[arg(long)]
        json: bool,
    },
    Remove {
        sku: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Set a setting, e.g. `config set dintero.account_id T12345678`.
    Set { key: String, value: String },
    /// Print one setting (or its default).
    Get { key: String },
    /// Remove a setting so that its default applies.
    Unset { key: String },
    /// Print every setting.
    Show,
}

/// How a command failed, and so which exit status it gets.
pub enum Failure {
    /// Bad input from the user: exit status 2.
    Invalid(String),
    /// A system, provider or network problem: exit status 3.
    System(String),
    /// The payment did not happen (declined, cancelled, expired, failed): exit status 1.
    NotPaid(String),
    /// A check found a fault (the journal does not verify): exit status 1.
    Check(String),
}

fn main() -> ExitCode {
    kassa_core::logging::init_from_env();
    let cli = Cli::parse();
    let _ = OPERATOR.set(cli.operator);
    let result = kassa_core::paths::data_dir(cli.data_dir.as_deref())
        .map_err(Failure::System)
        .and_then(|dir| run(cli.command, &dir));
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
        Err(Failure::NotPaid(message)) => {
            eprintln!("kassa-cli: not paid: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Check(message)) => {
            eprintln!("kassa-cli: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(command: Command, dir: &std::path::Path) -> Result<(), Failure> {
    match command {
        Command::Quote { order, json } => quote_cmd::run(&order, json),
        Command::Credentials(c) => match c {
            CredentialsCommand::Set {
                provider,
                field,
                profile,
            } => credentials_cmd::set(dir, &provider, &field, profile.as_deref()),
            CredentialsCommand::List => credentials_cmd::list(),
            CredentialsCommand::Delete {
                provider,
                field,
                profile,
            } => credentials_cmd::delete(dir, &provider, &field, profile.as_deref()),
        },
        Command::Config(c) => match c {
            ConfigCommand::Set { key, value } => config_cmd::set(dir, &key, &value),
            ConfigCommand::Get { key } => config_cmd::get(dir, &key),
            ConfigCommand::Unset { key } => config_cmd::unset(dir, &key),
            ConfigCommand::Show => config_cmd::show(dir),
        },
        Command::Charge(args) => charge_cmd::charge(dir, args),
        Command::Links { json } => link_cmd::list(dir, json),
        Command::Follow { once, json } => follow_cmd::follow(dir, once, json),
        Command::Renew(args) => link_cmd::renew(dir, args),
        Command::Resend { id, send, json } => link_cmd::resend(dir, &id, &send, json),
        Command::Status { id, json } => charge_cmd::status(dir, &id, json),
        Command::Returned { id, url, json } => charge_cmd::returned(dir, &id, &url, json),
        Command::Cancel { id, json } => charge_cmd::cancel(dir, &id, json),
        Command::Review {
            id,
            verdict,
            note,
            json,
        } => charge_cmd::review(dir, &id, &verdict, note.as_deref(), json),
        Command::Sessions {
            shop: true,
            limit,
            json,
            ..
        } => hub_cmd::shop_sessions(dir, limit, json),
        Command::Sessions {
            filter,
            limit,
            after,
            json,
            ..
        } => sessions_cmd::list(dir, &filter, limit, after.as_deref(), json),
        Command::Session { id, json } => sessions_cmd::show(dir, &id, json),
        Command::Capture { id, amount, json } => operations_cmd::capture(dir, &id, amount, json),
        Command::Refund(args) => operations_cmd::refund(dir, args),
        Command::Void { id, json } => operations_cmd::void(dir, &id, json),
        Command::Export { csv, filter } => sessions_cmd::export(dir, &csv, &filter),
        Command::Journal(j) => match j {
            JournalCommand::Verify => journal_cmd::verify(dir),
            JournalCommand::List { from, to, json } => {
                journal_cmd::list(dir, from.as_deref(), to.as_deref(), json)
            }
            JournalCommand::PublicKey => journal_cmd::public_key(dir),
        },
        Command::Operator(o) => match o {
            OperatorCommand::Add(a) => operator_cmd::add(dir, &a),
            OperatorCommand::List { json } => operator_cmd::list(dir, json),
            OperatorCommand::Remove { id } => operator_cmd::remove(dir, id),
        },
        Command::Receipt(args) => receipt_cmd::receipt(dir, args),
        Command::Report(args) => report_cmd::run(dir, &args),
        Command::Saft { from, to, out } => saft_cmd::run(dir, &from, &to, &out),
        Command::Hub(h) => match h {
            HubCommand::Status { json } => hub_cmd::status(dir, json),
            HubCommand::Sync { json } => hub_cmd::sync(dir, json),
            HubCommand::Run => hub_cmd::run(dir),
        },
        Command::Product(p) => match p {
            ProductCommand::Add(a) => product_cmd::add(dir, &a),
            ProductCommand::List { json } => product_cmd::list(dir, json),
            ProductCommand::Remove { sku } => product_cmd::remove(dir, &sku),
        },
        Command::Sandbox { port } => sandbox(port),
    }
}

/// Runs the sandbox in the foreground with the demo API client registered.
fn sandbox(port: u16) -> Result<(), Failure> {
    let sandbox = kassa_sandbox::Sandbox::start(
        port,
        kassa_sandbox::Config {
            state_file: None,
            dintero_accounts: vec![kassa_sandbox::DinteroAccount::demo()],
            ..Default::default()
        },
    )
    .map_err(|e| Failure::System(format!("cannot start the sandbox on port {port}: {e}")))?;
    use std::io::Write;
    println!("sandbox listening on {}", sandbox.url());
    println!("dintero.base_url {}", sandbox.dintero_base_url());
    println!("bambora.base_url {}", sandbox.bambora_base_url());
    println!("klarna.base_url  {}", sandbox.klarna_base_url());
    println!(
        "commercelayer.base_url {}",
        sandbox.commercelayer_base_url()
    );
    println!(
        "opencharge.gateway_url {} (payment gateway, OCID 100) or {} (merchant gateway, OCID 300)",
        sandbox.opencharge_payment_gateway_url(),
        sandbox.opencharge_merchant_gateway_url()
    );
    println!("(add API users and merchants with POST /_control/{{bambora,klarna,commercelayer}}/accounts and /_control/opencharge/merchants)");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
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
