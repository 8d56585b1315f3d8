//! `sparta`: the command line. Wiring only; the engine lives in the workspace crates.

mod check;
mod cli;
mod cloudwatch;
mod config;
mod devnet;
mod discord;
mod ha;
mod logging;
mod probe;
mod repair;
mod replay;
mod run;
mod secrets;
mod store;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, DiscordCommand};
use crate::config::ConfigSource;

fn main() -> ExitCode {
    // Two TLS backends are linked (aws-lc-rs and ring); rustls needs the process default chosen.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let quiet = matches!(cli.command, Command::Replay(_));
    logging::init(cli.log_json, if quiet { logging::QUIET_FILTER } else { logging::DEFAULT_FILTER });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Devnet(args) => devnet::main(*args).await,
            Command::Run { config } => run::main(&ConfigSource::choose(config)).await,
            Command::Probe { url, timeout } => probe::main(&url, timeout).await,
            Command::Replay(args) => replay::main(args).await,
            Command::Check(args) => check::main(args).await,
            Command::Migrate(args) => store::migrate_command(args).await,
            Command::Repair(args) => repair::main(args).await,
            Command::Discord { command: DiscordCommand::RegisterCommands { config, guild } } => {
                discord::register_commands(&ConfigSource::choose(config), guild).await
            }
            Command::Config { command: ConfigCommand::Check { config } } => {
                config::check(&ConfigSource::choose(config))
            }
        }
    });
    // Don't wait for lingering tasks (HTTP keep-alives, timers) on the way out.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Through the mask too: an error chain can quote what a library was given.
            eprintln!("error: {}", logging::masked(&format!("{error:#}")));
            ExitCode::FAILURE
        }
    }
}
