//! A local PostgreSQL for the tests: Debian's cluster, started as its owner, with a `gridwork`
//! role and a `gridwork_test` database.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{capture, capture_ok, is_root, run, show};

/// The environment variable through which tests find their database.
pub const URL_VAR: &str = "GRIDWORK_TEST_DATABASE_URL";

const ROLE: &str = "gridwork";
const PASSWORD: &str = "gridwork";
const DATABASE: &str = "gridwork_test";

/// One row of `pg_lsclusters`.
#[derive(Debug, Clone)]
struct Cluster {
    version: String,
    name: String,
    port: u16,
    online: bool,
    owner: String,
}

impl Cluster {
    fn url(&self) -> String {
        format!(
            "postgres://{ROLE}:{PASSWORD}@127.0.0.1:{}/{DATABASE}",
            self.port
        )
    }

    /// A command run as the cluster's owner (via `runuser` when we are root).
    fn as_owner(&self, program: &str) -> Command {
        let mut cmd = if is_root() && self.owner != "root" {
            let mut c = Command::new("runuser");
            c.args(["-u", &self.owner, "--", program]);
            c
        } else {
            Command::new(program)
        };
        // The owner may not be allowed into our working directory.
        cmd.current_dir("/");
        cmd
    }

    fn psql_admin(&self, sql: &str) -> Result<String> {
        capture_ok(self.as_owner("psql").args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-p",
            &self.port.to_string(),
            "-d",
            "postgres",
            "-c",
            sql,
        ]))
    }
}

/// Lists the clusters (`pg_lsclusters --no-header`).
fn clusters() -> Result<Vec<Cluster>> {
    let out = capture_ok(Command::new("pg_lsclusters").arg("--no-header"))?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some(Cluster {
                version: (*f.first()?).to_owned(),
                name: (*f.get(1)?).to_owned(),
                port: f.get(2)?.parse().ok()?,
                online: f.get(3)?.starts_with("online"),
                owner: (*f.get(4)?).to_owned(),
            })
        })
        .collect())
}

/// The cluster to use: `main` of the newest version, else the first one.
fn pick(mut all: Vec<Cluster>) -> Option<Cluster> {
    let major = |c: &Cluster| c.version.parse::<f64>().unwrap_or(0.0);
    all.sort_by(|a, b| {
        (b.name == "main")
            .cmp(&(a.name == "main"))
            .then(major(b).total_cmp(&major(a)))
    });
    all.into_iter().next()
}

/// The newest installed PostgreSQL major version (`/usr/lib/postgresql/<ver>`).
fn installed_version() -> Result<String> {
    let dir = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|v| v.parse::<f64>().is_ok())
        .collect();
    versions.sort_by(|a, b| {
        a.parse::<f64>()
            .unwrap_or(0.0)
            .total_cmp(&b.parse().unwrap_or(0.0))
    });
    versions
        .pop()
        .context("no PostgreSQL server found under /usr/lib/postgresql")
}

/// Whether `url` accepts a connection (`psql URL -c 'select 1'`).
fn reachable(url: &str) -> bool {
    capture(
        Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-c", "select 1", url])
            .env("PGCONNECT_TIMEOUT", "5"),
    )
    .is_ok_and(|o| o.status.success())
}

/// Makes sure a local cluster runs with the test role and database; returns the URL for
/// [`URL_VAR`]. Needs the `db` apt group installed.
pub fn ensure() -> Result<String> {
    let cluster = match pick(clusters()?) {
        Some(c) => c,
        None => {
            let version = installed_version()?;
            if !is_root() {
                bail!(
                    "no PostgreSQL cluster exists. Create one first:\n    sudo pg_createcluster {version} main"
                );
            }
            println!("creating PostgreSQL cluster {version}/main");
            run(Command::new("pg_createcluster").args([&version, "main"]))?;
            pick(clusters()?).context("pg_createcluster made no cluster")?
        }
    };
    let url = cluster.url();
    if cluster.online && reachable(&url) {
        println!(
            "PostgreSQL {}/{} on port {}: running, role and database present",
            cluster.version, cluster.name, cluster.port
        );
        return Ok(url);
    }

    if !cluster.online {
        println!(
            "starting PostgreSQL {}/{} as {}",
            cluster.version, cluster.name, cluster.owner
        );
        let socket_dir = Path::new("/var/run/postgresql");
        if is_root() && !socket_dir.exists() {
            run(Command::new("install").args([
                "-d",
                "-m",
                "2775",
                "-o",
                &cluster.owner,
                "-g",
                &cluster.owner,
                "/var/run/postgresql",
            ]))?;
        }
        let mut start = cluster.as_owner("pg_ctlcluster");
        start.args([&cluster.version, &cluster.name, "start"]);
        if let Err(e) = run(&mut start) {
            let hint = if is_root() {
                format!(
                    "see /var/log/postgresql/postgresql-{}-{}.log",
                    cluster.version, cluster.name
                )
            } else {
                format!(
                    "run: sudo -u {} pg_ctlcluster {} {} start",
                    cluster.owner, cluster.version, cluster.name
                )
            };
            return Err(e.context(format!("could not start PostgreSQL; {hint}")));
        }
    }

    if !is_root() && whoami() != cluster.owner {
        if reachable(&url) {
            return Ok(url);
        }
        bail!(
            "the role `{ROLE}` or database `{DATABASE}` is missing, and only root or `{owner}` can \
             create them. Run:\n    sudo -u {owner} psql -p {port} -c \"CREATE ROLE {ROLE} LOGIN \
             CREATEDB PASSWORD '{PASSWORD}'\"\n    sudo -u {owner} createdb -p {port} -O {ROLE} {DATABASE}",
            owner = cluster.owner,
            port = cluster.port,
        );
    }

    println!("ensuring role `{ROLE}` and database `{DATABASE}`");
    cluster.psql_admin(&format!(
        "DO $$BEGIN \
           IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN \
             ALTER ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'; \
           ELSE \
             CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'; \
           END IF; \
         END$$;"
    ))?;
    let exists = cluster.psql_admin(&format!(
        "SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
    ))?;
    if exists.trim().is_empty() {
        cluster.psql_admin(&format!("CREATE DATABASE {DATABASE} OWNER {ROLE}"))?;
    }
    if !reachable(&url) {
        bail!(
            "PostgreSQL is running but `{}` cannot connect to {url}; check listen_addresses and \
             pg_hba.conf of cluster {}/{}",
            show(Command::new("psql").arg(&url)),
            cluster.version,
            cluster.name
        );
    }
    Ok(url)
}

fn whoami() -> String {
    capture_ok(&mut Command::new("whoami"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
