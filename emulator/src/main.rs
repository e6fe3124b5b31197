//! `entra-emulator --listen 127.0.0.1:8400 --seed demo [--state FILE] [--faults SPEC]
//! [--listen-tls 127.0.0.1:8443 --tls-ca-file ca.pem]`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use entra_emulator::faults::FaultConfig;
use entra_emulator::{Config, control, start};

#[derive(Parser, Debug)]
#[command(
    name = "entra-emulator",
    about = "Local Microsoft Entra ID + Microsoft Graph + Azure Resource Manager"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8400")]
    listen: SocketAddr,
    /// demo, empty or large:N
    #[arg(long, default_value = "demo")]
    seed: String,
    /// Save the state as JSON to FILE on every change; load it on start.
    #[arg(long = "state", value_name = "FILE")]
    state: Option<PathBuf>,
    /// e.g. throttle=1.0,random429=0.2,random503=0.05,replication=3s,latency=50ms,seed=7
    #[arg(long, value_name = "SPEC", default_value = "")]
    faults: String,
    /// Also serve HTTPS on this address, with a certificate generated at start.
    #[arg(long = "listen-tls", value_name = "ADDR")]
    listen_tls: Option<SocketAddr>,
    /// Write the CA certificate (PEM) of the HTTPS listener to FILE.
    #[arg(long = "tls-ca-file", value_name = "FILE", requires = "listen_tls")]
    tls_ca_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let faults = match FaultConfig::default().apply_spec(&cli.faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("entra-emulator: --faults: {e}");
            std::process::exit(2);
        }
    };
    let config = Config {
        listen: cli.listen,
        seed: cli.seed,
        state_file: cli.state,
        faults,
        tls_listen: cli.listen_tls,
        tls_ca_file: cli.tls_ca_file,
    };
    let running = match start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("entra-emulator: {e}");
            std::process::exit(1);
        }
    };
    let seed = control::describe(&running.emulator);
    println!(
        "login: {}  (https://login.microsoftonline.com)",
        running.login_url
    );
    println!(
        "graph: {}  (https://graph.microsoft.com)",
        running.graph_url
    );
    println!("arm:   {}  (https://management.azure.com)", running.arm_url);
    println!("control: {}/_emulator", running.base_url);
    if let Some(https) = &running.tls_url {
        println!("https: {https}  (the same endpoints: {https}/login, /graph, /arm)");
    }
    println!(
        "tenant: {} ({})",
        seed["tenant"]["id"].as_str().unwrap_or(""),
        seed["tenant"]["domain"].as_str().unwrap_or("")
    );
    println!(
        "client id: {}",
        seed["client"]["appId"].as_str().unwrap_or("")
    );
    if let Some(users) = seed["users"].as_array() {
        for u in users {
            println!(
                "user: {}  password: {}",
                u["userPrincipalName"].as_str().unwrap_or(""),
                u["password"].as_str().unwrap_or("")
            );
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = running.wait() => {}
    }
}
