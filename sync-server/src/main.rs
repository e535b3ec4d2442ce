//! `gridwork-server`: serve and administer a Gridwork sync server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gridwork_schema::Role;
use gridwork_schema::territory::Territory;
use gridwork_sync_server::config::{DEFAULT_LISTEN, redact_url};
use gridwork_sync_server::storage::{NewUser, UnitRow};
use gridwork_sync_server::{Config, DatabaseConfig, Limits, Server, Storage, auth, open_storage};

/// The Gridwork (网格通) sync server.
#[derive(Debug, Parser)]
#[command(name = "gridwork-server", version, about)]
struct Cli {
    /// Data directory (holds the SQLite database unless --database is given).
    #[arg(
        long,
        global = true,
        default_value = "./gridwork-server-data",
        env = "GRIDWORK_DATA"
    )]
    data: PathBuf,
    /// PostgreSQL URL (postgres://user:pass@host/db) instead of the SQLite file. Also read
    /// from the file `database.url` in the data directory.
    #[arg(
        long,
        global = true,
        env = "GRIDWORK_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the database (and loads Chengyang's territory if the registry is empty).
    Init,
    /// Serves the sync API (initializing a fresh data directory first).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = DEFAULT_LISTEN, env = "GRIDWORK_LISTEN")]
        listen: SocketAddr,
    },
    /// The territory registry.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Registered devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Copies the SQLite database to FILE while the server may be running.
    Backup {
        /// Where to write the copy.
        file: PathBuf,
    },
    /// Replaces the SQLite database with a backup (stop the server first). Devices notice
    /// the new server id and sync from scratch.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Drops change-log entries; devices behind the new floor get whole documents instead.
    Compact {
        /// Keep this many of the newest log entries.
        #[arg(long, default_value_t = 0)]
        keep: u64,
    },
    /// The supervisors' report over the server's records (as `GET /v1/report`).
    Report {
        /// The period: YYYY-MM, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD.
        #[arg(long)]
        period: String,
        /// Territory code (district, street, community, grid or zone); default: the district.
        #[arg(long)]
        scope: Option<String>,
        /// Writes the workbook (Chinese) to FILE.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Imports a territory CSV (`level,code,name,parent_code,zone_code`).
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Adds an account.
    Add {
        /// Login name.
        #[arg(long)]
        name: String,
        /// Display name (defaults to the login name).
        #[arg(long)]
        display: Option<String>,
        /// grid_worker, legal_worker, mediator, street_officer, department, leader,
        /// supervisor or admin.
        #[arg(long)]
        role: String,
        /// Territory code the account may see (a grid, community, street or the district).
        #[arg(long)]
        scope: String,
        /// Department, for department liaisons.
        #[arg(long)]
        department: Option<String>,
        /// Password.
        #[arg(long, env = "GRIDWORK_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Disables an account: its devices' next requests are refused.
    Disable {
        /// Login name.
        login: String,
    },
    /// Re-enables an account.
    Enable {
        /// Login name.
        login: String,
    },
    /// Lists the accounts.
    List,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Lists the registered devices.
    List,
    /// Revokes a device for good: its next request is refused.
    Revoke {
        /// Device id (see `device list`).
        id: String,
    },
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn database(cli: &Cli) -> Result<DatabaseConfig> {
    let mut url = cli.database.clone();
    let file = cli.data.join("database.url");
    if url.is_none() && file.exists() {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        url = text.lines().next().map(str::to_owned);
    }
    Ok(DatabaseConfig::choose(&cli.data, url.as_deref()))
}

async fn open(cli: &Cli) -> Result<Arc<dyn Storage>> {
    let db = database(cli)?;
    if let DatabaseConfig::Sqlite(_) = db {
        std::fs::create_dir_all(&cli.data)
            .with_context(|| format!("creating {}", cli.data.display()))?;
    }
    let what = match &db {
        DatabaseConfig::Sqlite(p) => p.display().to_string(),
        DatabaseConfig::Postgres(u) => redact_url(u),
    };
    open_storage(&db, 16)
        .await
        .with_context(|| format!("opening the database {what}"))
}

fn unit_rows(t: &Territory) -> Vec<UnitRow> {
    t.units()
        .map(|u| UnitRow {
            code: u.code.clone(),
            level: u.level.as_str().to_owned(),
            name: u.name.clone(),
            parent: u.parent.clone(),
            zone: u.zone.clone(),
        })
        .collect()
}

async fn init(store: &dyn Storage) -> Result<()> {
    if store.unit_exists("").await?.is_none() {
        let n = store
            .import_units(unit_rows(Territory::chengyang()))
            .await?;
        tracing::info!(units = n, "loaded the built-in Chengyang territory");
    }
    Ok(())
}

fn parse_role(s: &str) -> Result<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        anyhow::anyhow!(
            "unknown role {s:?}: use grid_worker, legal_worker, mediator, street_officer, \
             department, leader, supervisor or admin"
        )
    })
}

fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_json);
    match &cli.command {
        Command::Init => {
            let store = open(&cli).await?;
            init(store.as_ref()).await?;
            println!(
                "initialized {:?} (server id {})",
                database(&cli)?,
                store.server_id().await?
            );
        }
        Command::Serve { listen } => {
            let store = open(&cli).await?;
            init(store.as_ref()).await?;
            let config = Config {
                data_dir: cli.data.clone(),
                database: database(&cli)?,
                listen: *listen,
                limits: Limits::default(),
                pg_pool_size: 16,
            };
            let handle = Server::start_with(store, config).await?;
            println!("gridwork-server listening on {}", handle.url());
            handle
                .run_until(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::Registry {
            command: RegistryCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let t = Territory::parse_csv(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            let store = open(&cli).await?;
            let n = store.import_units(unit_rows(&t)).await?;
            println!("imported {n} territory units ({} grids)", t.grid_count());
        }
        Command::User { command } => user(&cli, command).await?,
        Command::Device { command } => {
            let store = open(&cli).await?;
            match command {
                DeviceCommand::List => {
                    println!(
                        "{:<38} {:<12} {:<8} {:<24} name",
                        "id", "user", "state", "last seen"
                    );
                    for d in store.list_devices().await? {
                        println!(
                            "{:<38} {:<12} {:<8} {:<24} {} {}",
                            d.id,
                            d.user_login,
                            if d.revoked { "revoked" } else { "active" },
                            fmt_ms(d.last_seen_ms),
                            d.name,
                            d.app_version
                        );
                    }
                }
                DeviceCommand::Revoke { id } => {
                    if !store.revoke_device(id).await? {
                        bail!("no device {id:?}");
                    }
                    println!("revoked device {id}");
                }
            }
        }
        Command::Backup { file } => {
            let store = open(&cli).await?;
            store.backup(file).await?;
            println!("backed up to {}", file.display());
        }
        Command::Restore { file } => {
            let DatabaseConfig::Sqlite(db) = database(&cli)? else {
                bail!("restore is for the SQLite database; for PostgreSQL use pg_restore");
            };
            restore(&db, file)?;
            println!("restored {} from {}", db.display(), file.display());
        }
        Command::Compact { keep } => {
            let store = open(&cli).await?;
            let st = store.log_state().await?;
            let st = store.compact(st.head.saturating_sub(*keep)).await?;
            println!("log head {}, compacted up to {}", st.head, st.floor);
        }
        Command::Report {
            period,
            scope,
            xlsx,
            json,
        } => report(&cli, period, scope.as_deref(), xlsx.as_deref(), *json).await?,
    }
    Ok(())
}

async fn report(
    cli: &Cli,
    period: &str,
    scope: Option<&str>,
    xlsx: Option<&Path>,
    json: bool,
) -> Result<()> {
    use gridwork_core::report::{Cell, ReportExport as _, ReportParams};
    let period = period.parse()?;
    let mut params = ReportParams::new(period);
    if let Some(s) = scope {
        params = params.within(s);
    }
    let territory = Territory::chengyang();
    params.check_scope(territory)?;
    let store = open(cli).await?;
    let report = gridwork_sync_server::report::build(&store, &params, territory).await?;
    if let Some(path) = xlsx {
        report
            .to_xlsx(path)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if json {
        println!("{}", report.to_json());
    } else if xlsx.is_none() {
        let lang = gridwork_schema::Lang::ZhCn;
        for sheet in report.sheets(lang).iter().take(2) {
            println!("== {} ==", sheet.name(lang));
            for row in &sheet.rows {
                let cells: Vec<String> = row.iter().map(Cell::to_text).collect();
                println!("{}", cells.join("\t"));
            }
            println!();
        }
    }
    Ok(())
}

fn restore(db: &Path, file: &Path) -> Result<()> {
    gridwork_sync_server::storage::sqlite::restore(db, file)
        .with_context(|| format!("restoring from {}", file.display()))
}

async fn user(cli: &Cli, command: &UserCommand) -> Result<()> {
    let store = open(cli).await?;
    match command {
        UserCommand::Add {
            name,
            display,
            role,
            scope,
            department,
            password,
        } => {
            let role = parse_role(role)?;
            if scope.is_empty() || !scope.bytes().all(|b| b.is_ascii_digit()) {
                bail!("the scope must be a territory code (digits), e.g. 370214001");
            }
            if store.unit_exists(scope).await? == Some(false) {
                bail!("no territory unit {scope} in the registry (see `registry import`)");
            }
            if role == Role::Department && department.is_none() {
                bail!("a department liaison needs --department");
            }
            if password.len() < 6 {
                bail!("the password must have at least 6 characters");
            }
            let hash = auth::hash_password(password)?;
            let u = store
                .add_user(NewUser {
                    login: name.clone(),
                    name: display.clone().unwrap_or_else(|| name.clone()),
                    role,
                    scope: scope.clone(),
                    department: department.clone(),
                    password_hash: hash,
                })
                .await?;
            println!(
                "added user {} ({}) with id {}",
                u.login,
                role_label(role),
                u.id
            );
        }
        UserCommand::Disable { login } | UserCommand::Enable { login } => {
            let disable = matches!(command, UserCommand::Disable { .. });
            if !store.set_user_disabled(login, disable).await? {
                bail!("no user {login:?}");
            }
            println!(
                "{} user {login}",
                if disable { "disabled" } else { "enabled" }
            );
        }
        UserCommand::List => {
            for u in store.list_users().await? {
                println!(
                    "{:<14} {:<16} {:<16} {}{}",
                    u.login,
                    role_label(u.role),
                    u.scope,
                    if u.disabled { "disabled " } else { "" },
                    u.department.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn role_label(r: Role) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
