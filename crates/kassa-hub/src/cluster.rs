//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` in a temporary directory,
//! `pg_ctl` on a free loopback port (and a Unix socket in that directory), password
//! authentication (SCRAM), removed when dropped. No system service, no root: when the tests
//! run as root (a container), the server runs as the `postgres` user, since PostgreSQL
//! refuses to run as root.
//!
//! The binaries are found in `$KASSA_PG_BIN`, else `/usr/lib/postgresql/<newest>/bin`
//! (Debian's layout), else on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running throwaway cluster with one database, `shop`, owned by user `kassa`.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    run_as: Option<String>,
    /// fsync and synchronous commit as a real hub runs (benchmarks); off for tests, whose
    /// clusters live seconds.
    durable: bool,
}

/// The superuser this cluster is made with.
pub const USER: &str = "kassa";
/// The database the hub lives in.
pub const DATABASE: &str = "shop";

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KASSA_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .unwrap_or_else(|| PathBuf::from(""))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    l.local_addr().unwrap().port()
}

impl Cluster {
    /// Creates and starts a cluster whose user `kassa` has `password`, without fsync (tests).
    pub fn start(name: &str, password: &str) -> Cluster {
        Cluster::start_with(name, password, false)
    }

    /// [`Cluster::start`], durable as a real hub (fsync, synchronous commit) when `durable`.
    pub fn start_with(name: &str, password: &str, durable: bool) -> Cluster {
        let dir = std::env::temp_dir().join(format!("kassa-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc_geteuid() } == 0;
        let run_as = root.then(|| "postgres".to_string());
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, password).unwrap();
        if root {
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&pwfile)
                .status()
                .unwrap();
        }
        let c = Cluster {
            bin: bin_dir(),
            port: free_port(),
            dir,
            run_as,
            durable,
        };
        let data = c.dir.join("data");
        let out = c
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "initdb in {}: {e} (is PostgreSQL installed? make setup)",
                    c.bin.display()
                )
            });
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_file(&pwfile);
        c.pg_ctl_start();
        let out = c
            .command("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &c.port.to_string(),
                "-U",
                USER,
                "-d",
                "postgres",
            ])
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &format!("CREATE DATABASE {DATABASE}"),
            ])
            .env("PGPASSWORD", password)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    /// `pg_ctl -D <data> ARGS…`.
    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(args)
            .output()
            .unwrap()
    }

    fn pg_ctl_start(&self) {
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        if !self.durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off");
        }
        let log = self.dir.join("server.log");
        let out = self.pg_ctl(&[
            "-o",
            &options,
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "60",
            "start",
        ]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `postgres://kassa@127.0.0.1:PORT/shop`, what a till's `hub.url` says.
    pub fn url(&self) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Stops the server (fast shutdown: connections are cut), keeping its data.
    pub fn stop(&self) {
        let out = self.pg_ctl(&["-m", "fast", "-w", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
