//! When to try a Redfish request again, and how long to wait first: pure, so
//! the policy is tested without a network.

use std::time::Duration;

/// How many times and how patiently to retry one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; doubled for each one after.
    pub first_wait: Duration,
    /// The longest wait between two attempts (a `Retry-After` longer than
    /// this is cut to it).
    pub max_wait: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            attempts: 5,
            first_wait: Duration::from_millis(500),
            max_wait: Duration::from_secs(8),
        }
    }
}

/// What one attempt came to, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer to act on (success, or an error retrying cannot mend).
    Final,
    /// The BMC is busy or failed inside (429, 500, 502, 503, 504), with its
    /// `Retry-After` in seconds if it sent one.
    Busy(Option<u64>),
    /// No answer: refused, reset, dropped, or timed out.
    NoAnswer,
}

/// Whether an HTTP status is worth another attempt.
pub fn busy_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Policy {
    /// How long to wait before attempt `next` (2 for the first retry), or
    /// `None` when the attempts are used up or the outcome is final. A small
    /// spread (`jitter`, 0..1) keeps many nodes from retrying in step.
    pub fn wait(&self, outcome: Outcome, next: u32, jitter: f64) -> Option<Duration> {
        if next > self.attempts {
            return None;
        }
        let backoff = self
            .first_wait
            .saturating_mul(1u32 << (next.saturating_sub(2)).min(16));
        let wait = match outcome {
            Outcome::Final => return None,
            Outcome::Busy(Some(after)) => Duration::from_secs(after).max(backoff),
            Outcome::Busy(None) | Outcome::NoAnswer => backoff,
        };
        let spread = wait.mul_f64(0.25 * jitter.clamp(0.0, 1.0));
        Some((wait + spread).min(self.max_wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_doubling_up_to_the_cap_and_stops() {
        let p = Policy::default();
        let waits: Vec<_> = (2..=6).map(|n| p.wait(Outcome::NoAnswer, n, 0.0)).collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000]
                .iter()
                .map(|ms| Some(Duration::from_millis(*ms)))
                .chain([None])
                .collect::<Vec<_>>()
        );
        assert_eq!(p.wait(Outcome::Final, 2, 0.0), None);
        // Retry-After is honoured, within the cap.
        assert_eq!(
            p.wait(Outcome::Busy(Some(3)), 2, 0.0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(p.wait(Outcome::Busy(Some(600)), 2, 0.0), Some(p.max_wait));
        // Jitter adds at most a quarter.
        assert_eq!(
            p.wait(Outcome::Busy(None), 2, 1.0),
            Some(Duration::from_millis(625))
        );
    }

    #[test]
    fn busy_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(busy_status(s));
        }
        for s in [200, 204, 400, 401, 403, 404, 405, 409] {
            assert!(!busy_status(s));
        }
    }
}
