//! `cargo run -p hh-sandbox [-- --port N]`: a local HealthHero platform until Ctrl-C.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("--port needs a number");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!(
                    "hh-sandbox [--port N]\n\nServes HealthHero's identity, Traversal, Members and HRA APIs on 127.0.0.1 until Ctrl-C."
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}` (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    let sandbox = match hh_sandbox::Sandbox::builder().port(port).start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hh-sandbox could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "hh-sandbox is serving HealthHero's APIs on {}",
        sandbox.url()
    );
    println!();
    println!("  HH_IDENTITY_URL={}", sandbox.identity_url());
    println!("  HH_API_URL={}", sandbox.api_url());
    println!("  HH_HRA_URL={}", sandbox.hra_url());
    println!("  HH_CLIENT_ID={}", sandbox.client_id());
    println!("  HH_CLIENT_SECRET={}", sandbox.client_secret());
    println!();
    println!("Products: SYMPTOMS (symptom assessment), HRA (health risk assessment).");
    println!(
        "Controls: {}/_sandbox/counters, POST {}/_sandbox/faults, POST {}/_sandbox/revoke",
        sandbox.url(),
        sandbox.url(),
        sandbox.url()
    );
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
