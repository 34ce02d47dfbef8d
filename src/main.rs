//! The `claude-bottle` binary: parse the command line and dispatch.

use clap::Parser as _;

use claude_bottle::cli::{Cli, Command};
use claude_bottle::commands;
use claude_bottle::manifest::source::ManifestSource;
use claude_bottle::settings::Settings;

fn main() {
    let cli = Cli::parse();
    // Every setting the environment gives, read once, here.
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("claude-bottle: {e}");
            std::process::exit(2);
        }
    };
    let code = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(dispatch(cli, &settings)),
        Err(e) => {
            eprintln!("claude-bottle: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}

async fn dispatch(cli: Cli, settings: &Settings) -> i32 {
    let source = ManifestSource::from_cli(&cli.manifest);
    let result = match cli.command {
        Some(Command::List { json }) => Ok(commands::list::run(&source, json)),
        Some(Command::Show { agent, json }) => Ok(commands::show::run(&source, &agent, json)),
        Some(Command::Validate { files }) => Ok(commands::validate::run(&source, &files)),
        Some(Command::Init) => Ok(commands::init::run()),
        Some(Command::Doctor) => Ok(commands::doctor::run_for(&source, settings).await),
        Some(Command::Start { agent, yes }) => {
            commands::start::run(&source, settings, &agent, yes).await
        }
        Some(Command::Run {
            agent,
            yes,
            collect,
            discard,
            command,
        }) => {
            let before = match (collect, discard) {
                (_, true) => commands::collect::Before::Discard,
                (true, false) => commands::collect::Before::Collect,
                (false, false) => commands::collect::Before::Ask,
            };
            commands::run::run(&source, settings, &agent, yes, &command, before).await
        }
        Some(Command::Logs {
            agent,
            follow,
            denied,
            json,
            file,
            propose,
        }) => {
            let form = match (json, propose) {
                (_, true) => commands::logs::Form::Propose,
                (true, false) => commands::logs::Form::Json,
                (false, false) => commands::logs::Form::Human,
            };
            let options = commands::logs::LogsOptions {
                follow,
                denied: denied || propose,
                form,
            };
            commands::logs::run(
                &source,
                settings,
                agent.as_deref(),
                file.as_deref(),
                options,
            )
            .await
        }
        Some(Command::Completions { shell }) => Ok(commands::completions::run(shell)),
        Some(Command::Gc {
            dry_run,
            kept,
            yes,
            images,
        }) => {
            let options = commands::gc::GcOptions {
                dry_run,
                yes,
                images,
                kept,
            };
            commands::gc::run(&source, settings, options).await
        }
        Some(Command::Ps { json }) => commands::ps::run(&source, settings, json).await,
        Some(Command::Attach { name, take }) => {
            commands::attach::run(&source, settings, &name, take).await
        }
        Some(Command::Stop { name, yes, discard }) => {
            commands::stop::run(&source, settings, &name, yes, discard).await
        }
        Some(Command::Collect {
            name,
            branch,
            max_size,
        }) => commands::collect::run(&source, settings, &name, branch.as_deref(), max_size).await,
        None => {
            claude_bottle::runtime::run_dashboard(
                claude_bottle::runtime::DashboardContext::from_process(&cli.manifest, settings),
            )
            .await
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("claude-bottle: {e:#}");
        1
    })
}
