//! Lent events turned into owned ones, so tests can compare what both poll APIs deliver.
#![allow(dead_code)]

use rfc6455::connection::{Event, EventRef, Message};

/// The owned [`Event`] for a lent one; panics on a chunk or an opening event, which the
/// callers do not expect.
pub fn owned(event: EventRef<'_>) -> Event {
    match event {
        EventRef::Text(t) => Event::Message(Message::Text(t.into())),
        EventRef::Binary(b) => Event::Message(Message::Binary(b.to_vec().into())),
        EventRef::Ping(p) => Event::Ping(p.to_vec().into()),
        EventRef::Pong(p) => Event::Pong(p.to_vec().into()),
        EventRef::Closed(c) => Event::Closed(c),
        other => panic!("not expected on an open connection: {other:?}"),
    }
}
