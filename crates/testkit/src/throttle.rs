//! A TCP proxy on loopback that forwards to a server at a bounded rate: a slow registry,
//! so that a test can act while a transfer is in progress.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The proxy; it stops accepting when dropped (transfers in progress finish).
pub struct Throttle {
    /// `127.0.0.1:PORT` of the proxy.
    pub host: String,
    listener: Option<TcpListener>,
}

impl Throttle {
    /// Forwards connections to `target` (`host:port`), each direction at most
    /// `bytes_per_second`.
    pub fn start(target: &str, bytes_per_second: u64) -> Throttle {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let host = listener.local_addr().unwrap().to_string();
        let accept = listener.try_clone().unwrap();
        let target = target.to_owned();
        thread::spawn(move || {
            for client in accept.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(&target) else { continue };
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    thread::spawn(move || pump(from, to, bytes_per_second));
                }
            }
        });
        Throttle { host, listener: Some(listener) }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, rate: u64) {
    let mut buf = [0u8; 16 * 1024];
    let start = Instant::now();
    let mut sent = 0u64;
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
        let due = Duration::from_secs_f64(sent as f64 / rate.max(1) as f64);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            thread::sleep(wait);
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Drop for Throttle {
    fn drop(&mut self) {
        // Unblock the accepting thread: a connection to ourselves, then the listener goes.
        if let Some(listener) = self.listener.take() {
            let _ = listener.set_nonblocking(true);
            let _ = TcpStream::connect(&self.host);
        }
    }
}
