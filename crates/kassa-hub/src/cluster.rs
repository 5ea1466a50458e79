//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` in a temporary directory,
//! `pg_ctl` on a free loopback port (and a Unix socket in that directory), password
//! authentication (SCRAM), removed when dropped. No system service, no root: when the tests
//! run as root (a container), the server runs as the `postgres` user, since PostgreSQL
//! refuses to run as root.
//!
//! The binaries are found in `$KASSA_PG_BIN`, else `/usr/lib/postgresql/<newest>/bin`
//! (Debian's layout), else on `PATH`.
//!
//! [`Cluster::start_tls`] starts one with `ssl=on` and a server certificate issued by a private
//! CA made for it ([`TestCa`], the `openssl` command line tool, which `make setup` installs),
//! for the tests of TLS to a hub elsewhere.

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
    /// `ssl=on` with this server certificate and key.
    tls: Option<(PathBuf, PathBuf)>,
    ca: Option<TestCa>,
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
        Cluster::start_opts(name, password, durable, None)
    }

    /// [`Cluster::start`] with TLS on (`ssl=on`; plaintext connections are still accepted, as
    /// PostgreSQL does by default): its certificate names `names` (DNS names, IP addresses)
    /// and is issued by a CA of its own, [`Cluster::ca_file`].
    pub fn start_tls(name: &str, password: &str, names: &[&str]) -> Cluster {
        Cluster::start_opts(name, password, false, Some(names))
    }

    /// Durable ([`Cluster::start_with`]) and with TLS for `tls_names` when given
    /// ([`Cluster::start_tls`]).
    pub fn start_opts(
        name: &str,
        password: &str,
        durable: bool,
        tls_names: Option<&[&str]>,
    ) -> Cluster {
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
        let (ca, tls) = match tls_names {
            Some(names) => {
                let ca = TestCa::new(&dir.join("ca"), &format!("Kassa test CA {name}"));
                let (cert, key) = ca.issue(&dir, "server", names);
                if root {
                    Command::new("chown")
                        .args(["postgres:postgres"])
                        .arg(&cert)
                        .arg(&key)
                        .status()
                        .unwrap();
                }
                (Some(ca), Some((cert, key)))
            }
            None => (None, None),
        };
        let c = Cluster {
            bin: bin_dir(),
            port: free_port(),
            dir,
            run_as,
            durable,
            tls,
            ca,
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
        if let Some((cert, key)) = &self.tls {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                key.display()
            ));
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

    /// The certificate of the CA that issued a [`Cluster::start_tls`] cluster's certificate:
    /// what a till's `hub.ca_file` names.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca.as_ref().map(|ca| ca.cert.as_path())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private certificate authority for tests, made with the `openssl` command line tool: an EC
/// P-256 key and a self-signed CA certificate, valid two days, in its directory.
pub struct TestCa {
    dir: PathBuf,
    /// The CA's certificate (PEM), for `hub.ca_file`.
    pub cert: PathBuf,
    key: PathBuf,
}

impl TestCa {
    /// A new CA called `name` in `dir` (created).
    pub fn new(dir: &Path, name: &str) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        let ca = TestCa {
            dir: dir.to_path_buf(),
            cert: dir.join("ca.pem"),
            key: dir.join("ca.key"),
        };
        openssl(
            "req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
            &[
                ("-subj", &format!("/CN={name}")),
                ("-keyout", &path(&ca.key)),
                ("-out", &path(&ca.cert)),
            ],
        );
        ca
    }

    /// A server certificate for `names` (DNS names or IP addresses) issued by this CA, and its
    /// key (mode 0600, as PostgreSQL demands), as `<dir>/<file>.pem` and `.key`.
    pub fn issue(&self, dir: &Path, file: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let (cert, key, csr) = (
            dir.join(format!("{file}.pem")),
            dir.join(format!("{file}.key")),
            self.dir.join(format!("{file}.csr")),
        );
        let alt: Vec<String> = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(_) => format!("IP:{n}"),
                Err(_) => format!("DNS:{n}"),
            })
            .collect();
        let ext = self.dir.join(format!("{file}.ext"));
        std::fs::write(
            &ext,
            format!(
                "subjectAltName={}\nbasicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
                alt.join(",")
            ),
        )
        .unwrap();
        openssl(
            "req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
            &[
                ("-subj", &format!("/CN={}", names[0])),
                ("-keyout", &path(&key)),
                ("-out", &path(&csr)),
            ],
        );
        openssl(
            "x509 -req -CAcreateserial -days 2",
            &[
                ("-in", &path(&csr)),
                ("-CA", &path(&self.cert)),
                ("-CAkey", &path(&self.key)),
                ("-CAserial", &path(&self.dir.join("ca.srl"))),
                ("-extfile", &path(&ext)),
                ("-out", &path(&cert)),
            ],
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        (cert, key)
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `openssl FIXED… NAME VALUE…`: the fixed arguments have no spaces; the values may.
fn openssl(fixed: &str, named: &[(&str, &str)]) {
    let mut args: Vec<&str> = fixed.split_whitespace().collect();
    for (name, value) in named {
        args.extend([*name, *value]);
    }
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e} (is it installed? make setup)"));
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
