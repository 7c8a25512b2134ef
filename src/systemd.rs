//! What `feedd serve` tells the service manager (systemd's `Type=notify`,
//! `packaging/feedd.service`): ready once the startup scan has published,
//! reloading while a config reload runs, stopping, a one-line status, and
//! the watchdog's keep-alive when the unit asks for one.
//!
//! Messages go over the datagram socket named by `NOTIFY_SOCKET` (the
//! `sd-notify` crate speaks the protocol). Without that variable, as when
//! feedd runs by hand or under another supervisor, nothing is sent. A failed
//! send is logged at debug level and otherwise ignored: serving never waits
//! on, or fails for, the manager.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;
use tracing::debug;

/// The connection to the service manager, if feedd runs under one.
pub struct ServiceManager {
    /// Whether `NOTIFY_SOCKET` was set at startup.
    enabled: bool,
    /// `READY=1` was sent: from then on the status follows every change.
    ready: bool,
    /// The status last sent, so that an unchanged one is not sent again
    /// (the loop recomputes it at every wake-up).
    last_status: String,
    /// The unit's `WatchdogSec=` halved (systemd's advice), and when the
    /// keep-alive is due next; `None` without a watchdog.
    watchdog: Option<(Duration, Instant)>,
}

impl ServiceManager {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` once.
    pub fn from_env() -> ServiceManager {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some();
        let watchdog = sd_notify::watchdog_enabled()
            .filter(|_| enabled)
            .map(|timeout| (timeout / 2, Instant::now()));
        ServiceManager {
            enabled,
            ready: false,
            last_status: String::new(),
            watchdog,
        }
    }

    /// The first publish is served: systemd's start job completes (and
    /// units ordered after feedd start) now.
    pub fn ready(&mut self, status: &str) {
        self.ready = true;
        self.last_status = status.to_string();
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// A config reload begins; [`ServiceManager::ready`] must follow when
    /// it is done, even if the new config was refused. `MONOTONIC_USEC` is
    /// what `Type=notify-reload` (systemd 253+) wants with it; plain
    /// `Type=notify` ignores it.
    pub fn reloading(&mut self) {
        if !self.enabled {
            return;
        }
        let mut states = vec![
            NotifyState::Reloading,
            NotifyState::Status("reloading the config"),
        ];
        match NotifyState::monotonic_usec_now() {
            Ok(now) => states.push(now),
            Err(error) => debug!("cannot read the monotonic clock for systemd: {error}"),
        }
        self.last_status = "reloading the config".into();
        self.send(&states);
    }

    /// Shutdown has begun (SIGTERM or SIGINT).
    pub fn stopping(&mut self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }

    /// What `systemctl status` shows while the startup scan runs.
    pub fn starting(&mut self, status: &str) {
        self.last_status = status.to_string();
        self.send(&[NotifyState::Status(status)]);
    }

    /// What `systemctl status` shows under the unit once ready, sent only
    /// when it changed.
    pub fn status(&mut self, status: &str) {
        if !self.enabled || !self.ready || self.last_status == status {
            return;
        }
        self.last_status = status.to_string();
        self.send(&[NotifyState::Status(status)]);
    }

    /// When the next keep-alive is due, for the loop's wake-up.
    pub fn watchdog_due(&self) -> Option<Instant> {
        self.watchdog.map(|(_, due)| due)
    }

    /// Sends the keep-alive if it is due. Called from the rebuild loop, so
    /// that a loop stuck for longer than `WatchdogSec=` gets feedd
    /// restarted (a thread of its own would keep pinging regardless).
    pub fn keep_alive(&mut self) {
        let Some((interval, due)) = self.watchdog else {
            return;
        };
        let now = Instant::now();
        if due <= now {
            self.watchdog = Some((interval, now + interval));
            self.send(&[NotifyState::Watchdog]);
        }
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.enabled {
            return;
        }
        if let Err(error) = sd_notify::notify(states) {
            debug!("cannot notify the service manager (NOTIFY_SOCKET): {error}");
        }
    }
}
