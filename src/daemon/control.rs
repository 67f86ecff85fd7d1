//! Stop and reload requests: set by signal handlers (or tests), polled by the main loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Requests to a running daemon. Cloning shares the flags.
#[derive(Debug, Clone, Default)]
pub struct Control {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
}

impl Control {
    /// Flags nobody sets but the caller.
    pub fn new() -> Control {
        Control::default()
    }

    /// Flags set by signals: SIGTERM and SIGINT ask to stop (drain, commit, exit), SIGHUP
    /// asks to reload the rules. The handlers only set a flag (async-signal-safe); the main
    /// loop looks at the flags at least every [`super::IDLE_FLUSH`].
    pub fn from_signals() -> std::io::Result<Control> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let c = Control::new();
        signal_hook::flag::register(SIGTERM, Arc::clone(&c.stop))?;
        signal_hook::flag::register(SIGINT, Arc::clone(&c.stop))?;
        signal_hook::flag::register(SIGHUP, Arc::clone(&c.reload))?;
        Ok(c)
    }

    /// Asks the daemon to stop.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Asks the daemon to reload its rules.
    pub fn request_reload(&self) {
        self.reload.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Whether a reload was asked for since the last call (clears the request).
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }
}
