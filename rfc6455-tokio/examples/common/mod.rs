//! Code shared by the tokio examples: their options and the echo loop.
#![allow(dead_code)]

use std::time::Duration;

use rfc6455_tokio::rfc6455::deflate::DeflateConfig;
use rfc6455_tokio::{Error, Options, WebSocketStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;

/// The driver's defaults, with permessage-deflate offered (client) and accepted (server)
/// unless `RFC6455_DEFLATE=0` is set, as in the std examples.
pub fn options() -> Options {
    let deflate = std::env::var("RFC6455_DEFLATE").map_or(true, |v| v != "0");
    let mut options = Options::new();
    options.config = options
        .config
        .deflate(DeflateConfig::new().enabled(deflate));
    options
}

/// Send every text and binary message back (fed: written once the messages already
/// received are answered) until the connection ends or stays silent for 60 s; the first
/// error is returned once the driver has finished the close.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocketStream<S>,
) -> Result<(), Error> {
    let mut result = Ok(());
    while let Ok(Some(message)) = timeout(Duration::from_secs(60), ws.next()).await {
        match message {
            // Queued: the replies to a burst go out in one write before the next read.
            Ok(message) if message.is_data() => ws.feed(message).await?,
            Ok(_) => {}
            // The close frame is sent; polling on lets the driver finish the close.
            Err(e) => result = Err(e),
        }
    }
    result
}
