//! Servers of a test's own: a PostgreSQL cluster and a Redis server on
//! free ports, from the machine's Debian packages. A test that restarts
//! its database or stops its Redis does so to these, not to the servers
//! every other test shares.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::proxy::free_port;

/// How long a server gets to come up before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `command`, panicking with its output if it fails.
fn run(command: &mut Command) {
    let out = command.output().expect("run a server command");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `ready` every 50 ms until it holds or [`PATIENCE`] runs out.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A PostgreSQL cluster in a temporary directory, trust auth on
/// 127.0.0.1:`port`, run by the `postgres` user when the tests run as
/// root (PostgreSQL refuses to run as root). Stopped and deleted on drop.
pub struct OwnPostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

impl OwnPostgres {
    /// Creates the cluster (initdb takes a few seconds) and starts it.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries in /usr/lib/postgresql (Debian's postgresql package)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("a PostgreSQL version with pg_ctl");
        let dir = std::env::temp_dir().join(format!(
            "chirp-own-postgres-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let pg = Self {
            port: free_port(),
            dir,
            bin,
        };
        if is_root() {
            run(Command::new("chown").arg("postgres:postgres").arg(&pg.dir));
        }
        run(pg
            .as_postgres(&pg.bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(pg.data()));
        pg.start_again();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `program` as the user that owns the cluster.
    fn as_postgres(&self, program: &Path) -> Command {
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.stdin(Stdio::null());
        command
    }

    fn pg_ctl(&self, action: &str) -> Command {
        let mut command = self.as_postgres(&self.bin.join("pg_ctl"));
        command
            .arg(action)
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "30", "-l"])
            .arg(self.dir.join("server.log"));
        command
    }

    /// Starts the cluster (after [`Self::stop`]) and waits until it answers.
    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        run(self.pg_ctl("start").args(["-o", &options]));
        wait_until("PostgreSQL", || self.answers());
    }

    /// A fast shutdown, as an operator's restart does: sessions are ended,
    /// the server writes a checkpoint and stops.
    pub fn stop(&self) {
        run(self.pg_ctl("stop").args(["-m", "fast"]));
    }

    /// Whether the server accepts connections now.
    pub fn answers(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The URL of database `name` (which [`Self::create_database`] makes).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn create_database(&self, name: &str) {
        run(Command::new(self.bin.join("createdb")).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            name,
        ]));
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl("stop").args(["-m", "immediate"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A Redis server on 127.0.0.1:`port` that keeps nothing on disk; killed
/// on drop.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.start_again();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (after [`Self::stop`]) and waits for its PONG.
    pub fn start_again(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package)");
        self.child = Some(child);
        wait_until("Redis", || self.answers());
    }

    /// Kills the server: every connection drops, new ones are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server answers PING now.
    pub fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0u8; 7];
        conn.write_all(b"PING\r\n").is_ok()
            && conn.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
