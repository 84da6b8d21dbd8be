//! One small function per workload per implementation. Each takes the pre-generated
//! input, runs it through the implementation's message-level API, and records every
//! delivered message in a [`Tally`](crate::workload::Tally) (decoding) or writes the
//! frames to a [`Sink`](crate::stream::Sink) (encoding). To measure another API of an
//! implementation, swap the body of its function.

pub mod fws;
pub mod ours;
pub mod tung;

/// Which implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imp {
    Ours,
    Tungstenite,
    FastWebSockets,
}

impl Imp {
    pub const ALL: [Imp; 3] = [Imp::Ours, Imp::Tungstenite, Imp::FastWebSockets];

    pub fn name(self) -> &'static str {
        match self {
            Imp::Ours => "rfc6455",
            Imp::Tungstenite => "tungstenite",
            Imp::FastWebSockets => "fastwebsockets",
        }
    }
}
