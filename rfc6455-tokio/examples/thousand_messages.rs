//! Sends 1,000 text messages to an echo server and checks every echo, then closes.
//!
//! `cargo run --release -p rfc6455-tokio --example tokio_thousand_messages -- ws://127.0.0.1:9001`
use rfc6455_tokio::{CloseCode, Message, connect};

#[tokio::main]
async fn main() -> Result<(), rfc6455_tokio::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("ws://127.0.0.1:9001".into());
    let (mut ws, _) = connect(&url).await?;
    for i in 0..1000 {
        ws.send(Message::text(format!("message {i}"))).await?;
        let echo = ws.next().await.expect("an echo")?;
        assert_eq!(echo.to_text(), Some(format!("message {i}").as_str()));
    }
    ws.close(CloseCode::NORMAL, "done").await?;
    while ws.next().await.is_some() {}
    println!("1000 messages echoed");
    Ok(())
}
