//! The Redfish side of the bmc tests: sushy-tools' emulator (the real one,
//! from PyPI, in /opt/aerie-test/sushy, made by scripts/test-deps.sh) with its
//! fake system driver, basic authentication by an htpasswd file and, when
//! asked, TLS; a tiny file server for the ISO the BMCs fetch; a site file
//! whose nodes are the emulator's systems; and reads of the emulator's state
//! through Redfish GETs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "redfish-test-pw";

/// Where the sushy-tools venv is (`AERIE_TEST_SUSHY_VENV` overrides it).
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("AERIE_TEST_SUSHY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/aerie-test/sushy"));
    assert!(
        dir.join("bin/sushy-emulator").is_file(),
        "sushy-tools is not installed in {}: run scripts/test-deps.sh",
        dir.display()
    );
    dir
}

/// A free TCP port on the loopback address.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A certificate and key (PEM) for 127.0.0.1, and the certificate's DER.
pub struct TestCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: Vec<u8>,
}

pub fn make_cert(dir: &Path) -> TestCert {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let paths = TestCert {
        cert: dir.join("bmc.crt"),
        key: dir.join("bmc.key"),
        der: cert.der().to_vec(),
    };
    std::fs::write(&paths.cert, cert.pem()).unwrap();
    std::fs::write(&paths.key, key.serialize_pem()).unwrap();
    paths
}

/// The SHA-256 fingerprint in the site's form.
pub fn fingerprint(der: &[u8]) -> String {
    aerie::site::bmc::TlsFingerprint::of(der).to_string()
}

/// A running sushy-emulator with `n` fake systems, all powered off.
pub struct Emulator {
    child: Child,
    pub port: u16,
    pub tls: bool,
    pub systems: Vec<String>,
    pub dir: tempfile::TempDir,
}

impl Emulator {
    pub fn start(n: usize, cert: Option<&TestCert>) -> Emulator {
        let venv = venv();
        let dir = tempfile::tempdir().unwrap();
        let hash = Command::new(venv.join("bin/python"))
            .args([
                "-c",
                "import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(rounds=4)).decode())",
                PASSWORD,
            ])
            .output()
            .unwrap();
        assert!(hash.status.success(), "bcrypt: {hash:?}");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(
            &htpasswd,
            format!("{USER}:{}\n", String::from_utf8_lossy(&hash.stdout).trim()),
        )
        .unwrap();
        let systems: Vec<String> = (0..n)
            .map(|i| format!("aeae0000-0000-4000-8000-{i:012}"))
            .collect();
        let listing: Vec<String> = systems
            .iter()
            .enumerate()
            .map(|(i, uuid)| {
                format!(
                    "{{'uuid': '{uuid}', 'name': 'sys{i:03}', 'power_state': 'Off', 'nics': [{{'mac': '52:54:00:aa:{:02x}:{:02x}', 'ip': '10.44.0.{}'}}]}}",
                    i / 256,
                    i % 256,
                    i % 250 + 2
                )
            })
            .collect();
        let port = free_port();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let mut config = format!(
            "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\nSUSHY_EMULATOR_LISTEN_PORT = {port}\n\
             SUSHY_EMULATOR_AUTH_FILE = '{}'\nSUSHY_EMULATOR_FAKE_DRIVER = True\n\
             SUSHY_EMULATOR_STATE_DIR = '{}'\nSUSHY_EMULATOR_FAKE_SYSTEMS = [\n    {}\n]\n",
            htpasswd.display(),
            state.display(),
            listing.join(",\n    ")
        );
        if let Some(cert) = cert {
            config.push_str(&format!(
                "SUSHY_EMULATOR_SSL_CERT = '{}'\nSUSHY_EMULATOR_SSL_KEY = '{}'\n",
                cert.cert.display(),
                cert.key.display()
            ));
        }
        let config_path = dir.path().join("emulator.conf");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("emulator.log")).unwrap();
        let child = Command::new(venv.join("bin/sushy-emulator"))
            .arg("--config")
            .arg(&config_path)
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut emulator = Emulator {
            child,
            port,
            tls: cert.is_some(),
            systems,
            dir,
        };
        emulator.wait_ready();
        emulator
    }

    pub fn base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("emulator.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("sushy-emulator exited ({status}):\n{}", self.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "sushy-emulator did not listen within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn client(&self) -> reqwest::blocking::Client {
        // reqwest is built without a default crypto provider; the test's own
        // reads trust the emulator's certificate blindly (aerie's do not).
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::blocking::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// A Redfish GET of the emulator's own state (not through aerie).
    pub fn get(&self, path: &str) -> serde_json::Value {
        let response = self
            .client()
            .get(format!("{}{path}", self.base()))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        serde_json::from_slice(&response.bytes().unwrap()).unwrap()
    }

    /// A Redfish POST straight to the emulator (to set up a state).
    pub fn post(&self, path: &str, body: serde_json::Value) {
        self.send(reqwest::Method::POST, path, body)
    }

    /// A Redfish PATCH straight to the emulator (to set up a state; the bench uses it).
    #[allow(dead_code)]
    pub fn patch(&self, path: &str, body: serde_json::Value) {
        self.send(reqwest::Method::PATCH, path, body)
    }

    fn send(&self, method: reqwest::Method, path: &str, body: serde_json::Value) {
        let response = self
            .client()
            .request(method.clone(), format!("{}{path}", self.base()))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
    }

    /// A system's power state, polled until it reads `want` (the fake driver
    /// applies a power change 1 to 11 s after it is asked, as hardware does).
    pub fn wait_power(&self, system: &str, want: &str) -> String {
        let start = Instant::now();
        loop {
            let state = self.get(&format!("/redfish/v1/Systems/{system}"))["PowerState"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if state == want || start.elapsed() > Duration::from_secs(20) {
                return state;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file server for the ISO the BMCs download: every GET answers `body`.
pub struct FileServer {
    pub port: u16,
}

impl FileServer {
    pub fn start(body: Vec<u8>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = std::sync::Arc::new(body);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let body = body.clone();
                std::thread::spawn(move || serve_file(stream, &body));
            }
        });
        FileServer { port }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

fn serve_file(mut stream: TcpStream, body: &[u8]) {
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A site whose nodes are BMC systems: node `n{i}` is `systems[i]` at `base`.
/// Each node's extra `bmc:` keys come from `extra(i)`.
pub fn site_yaml(base: &str, systems: &[String], extra: &dyn Fn(usize) -> String) -> String {
    let mut nodes = String::new();
    for (i, system) in systems.iter().enumerate() {
        let role = if i == 0 { "frontend" } else { "compute" };
        nodes.push_str(&format!(
            "  - hostname: n{i}\n    role: {role}\n    interfaces:\n      - network: mgmt\n        device: eth0\n        address: 10.44.{}.{}\n    bmc:\n      type: redfish\n      address: {base}\n      user: {USER}\n      system-id: {system}\n{}",
            i / 200,
            i % 200 + 10,
            extra(i)
        ));
    }
    format!(
        "site:\n  name: rack\n  domain: rack.example.org\n  profile: openstack\n  distro: rocky9\n\
         networks:\n  - name: mgmt\n    purpose: management\n    cidr: 10.44.0.0/16\n    gateway: 10.44.255.254\n\
         nodes:\n{nodes}"
    )
}

/// The secrets file giving every node `password`.
pub fn secrets_yaml(n: usize, password: &dyn Fn(usize) -> String) -> String {
    let mut out = String::from("bmc-passwords:\n");
    for i in 0..n {
        out.push_str(&format!("  n{i}: \"{}\"\n", password(i)));
    }
    out
}

/// Write the site and its secrets (0600) into `dir`; the site's path.
pub fn write_site(dir: &Path, site: &str, secrets: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("rack.yaml");
    std::fs::write(&path, site).unwrap();
    let secrets_path = dir.join("rack.secrets.yaml");
    std::fs::write(&secrets_path, secrets).unwrap();
    std::fs::set_permissions(&secrets_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The plain test site in `dir`: node `n{i}` is `systems[i]` at `base`,
/// every node with the test user and password; the site's path.
pub fn write_plain_site(dir: &Path, base: &str, systems: &[String]) -> PathBuf {
    write_site(
        dir,
        &site_yaml(base, systems, &|_| String::new()),
        &secrets_yaml(systems.len(), &|_| PASSWORD.to_string()),
    )
}
