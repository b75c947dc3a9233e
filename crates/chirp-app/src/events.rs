//! The event bus: every write an operation makes is announced here, after
//! it is stored.
//!
//! The database stays the source of truth: an event says that something
//! changed, and a subscriber that misses one (it lagged, or the bus was
//! down) loses only promptness, never data. So publishing never fails and
//! never blocks a write: the in-process bus keeps a bounded queue per
//! subscriber and a subscriber that falls behind is told how many events it
//! missed ([`tokio::sync::broadcast`]'s `Lagged`).
//!
//! [`InProcessBus`] is this process's bus. What must reach other
//! instances (notifications for their streams, purges for their caches)
//! goes through the broker (`chirp_broker`) instead.

use chirp_core::model::FollowState;
use tokio::sync::broadcast;

/// Something that happened, as subscribers need to hear of it: ids only,
/// so an event never carries data its reader may not see. (Notifications
/// travel to every instance through the broker, not here.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A tweet was posted (a reply when `reply_to` is set).
    TweetPosted {
        tweet: i64,
        author: i64,
        reply_to: Option<i64>,
    },
    /// Its author changed a tweet's text.
    TweetEdited { tweet: i64, author: i64 },
    /// Its author deleted a tweet.
    TweetDeleted { tweet: i64, author: i64 },
    /// `follower` now follows `followee`, or asked to (`Requested`).
    Followed {
        follower: i64,
        followee: i64,
        state: FollowState,
    },
    /// `follower` stopped following `followee` (or withdrew a request).
    Unfollowed { follower: i64, followee: i64 },
    /// An account changed its profile.
    ProfileChanged { account: i64 },
    /// An account turned protected (or public).
    VisibilityChanged { account: i64, protected: bool },
}

/// Where operations announce their writes.
pub trait EventBus: Send + Sync {
    /// Announces `event` to every subscriber; never fails, never waits.
    fn publish(&self, event: Event);
    /// A new subscription, receiving the events published after this call.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// Events queued per subscriber before the slowest starts missing some.
pub const SUBSCRIBER_QUEUE: usize = 1024;

/// The bus of one process: a bounded broadcast channel.
#[derive(Debug)]
pub struct InProcessBus {
    sender: broadcast::Sender<Event>,
}

impl InProcessBus {
    pub fn new(queue: usize) -> Self {
        let (sender, _) = broadcast::channel(queue.max(1));
        Self { sender }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(SUBSCRIBER_QUEUE)
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_hear_what_is_published_after_they_subscribe() {
        let bus = InProcessBus::new(8);
        bus.publish(Event::ProfileChanged { account: 1 });
        let mut rx = bus.subscribe();
        bus.publish(Event::ProfileChanged { account: 2 });
        assert_eq!(
            rx.try_recv().ok(),
            Some(Event::ProfileChanged { account: 2 })
        );
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_slow_subscriber_is_told_what_it_missed_and_publishing_never_blocks() {
        let bus = InProcessBus::new(2);
        let mut rx = bus.subscribe();
        for account in 0..5 {
            bus.publish(Event::ProfileChanged { account });
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(3))
        ));
        assert_eq!(
            rx.try_recv().ok(),
            Some(Event::ProfileChanged { account: 3 })
        );
    }
}
