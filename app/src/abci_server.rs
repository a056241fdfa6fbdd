//! The ABCI socket server CometBFT connects to: a thread per connection (consensus, mempool,
//! query, snapshot), each answering its requests in order.
//!
//! Why not `tendermint_abci::Server`: it leaves Nagle's algorithm on and writes every answer with
//! a syscall of its own. With Nagle on, a small CheckTx answer written while the previous one is
//! unacknowledged waits for CometBFT's delayed ACK; under load that showed as a `broadcast_tx_sync`
//! p99 of 111 ms. Here TCP_NODELAY is set, and answers are buffered and written once no further
//! request is already waiting, as CometBFT's own socket server does.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use surety_proto::cometbft::abci::{
    request, response, Request, Response, ResponseException, ResponseFinalizeBlock,
};
use tendermint_abci::Application;

/// No request CometBFT sends comes near this (a block is at most 100 MiB).
const MAX_REQUEST_BYTES: u64 = 256 << 20;

/// Accepts CometBFT's connections. A failed accept (a peer gone before it was accepted, no file
/// descriptors left) is logged and the next one tried: it must not stop the node. Only a thread
/// that cannot be started ends the server.
/// `observe` sees every FinalizeBlock answer on its way out (the node's metrics).
pub fn serve<A: Application>(
    listener: TcpListener,
    app: A,
    observe: fn(&ResponseFinalizeBlock),
) -> io::Result<()> {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accepting an ABCI connection failed: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY on an ABCI connection: {e}");
        }
        let app = app.clone();
        std::thread::Builder::new()
            .name("abci-conn".into())
            .spawn(move || match answer(stream, &app, observe) {
                Ok(()) => tracing::info!("CometBFT closed an ABCI connection"),
                Err(e) => tracing::error!("ABCI connection failed: {e}"),
            })?;
    }
    Ok(())
}

/// Answers one connection's requests until CometBFT closes it.
fn answer<A: Application>(
    stream: TcpStream,
    app: &A,
    observe: fn(&ResponseFinalizeBlock),
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, stream.try_clone()?);
    let mut writer = BufWriter::with_capacity(1 << 16, stream);
    loop {
        // Nothing more has arrived: what is answered goes out before we wait.
        if reader.buffer().is_empty() {
            writer.flush()?;
        }
        let Some(request) = read_message::<Request>(&mut reader)? else {
            return writer.flush();
        };
        let answer = dispatch(app, request, observe);
        let mut bytes = Vec::with_capacity(prost::Message::encoded_len(&answer) + 10);
        prost::Message::encode_length_delimited(&answer, &mut bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        writer.write_all(&bytes)?;
    }
}

/// The next length-delimited message, or `None` at a clean end of stream.
fn read_message<M: prost::Message + Default>(reader: &mut impl BufRead) -> io::Result<Option<M>> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut len: u64 = 0;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte)?;
        len |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    if len > MAX_REQUEST_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an ABCI message of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    reader.read_exact(&mut body)?;
    M::decode(body.as_slice())
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn dispatch<A: Application>(
    app: &A,
    request: Request,
    observe: fn(&ResponseFinalizeBlock),
) -> Response {
    use request::Value as Q;
    use response::Value as R;
    let value = match request.value {
        Some(Q::Echo(r)) => R::Echo(app.echo(r)),
        Some(Q::Flush(_)) => R::Flush(app.flush()),
        Some(Q::Info(r)) => R::Info(app.info(r)),
        Some(Q::InitChain(r)) => R::InitChain(app.init_chain(r)),
        Some(Q::Query(r)) => R::Query(app.query(r)),
        Some(Q::CheckTx(r)) => R::CheckTx(app.check_tx(r)),
        Some(Q::Commit(_)) => R::Commit(app.commit()),
        Some(Q::ListSnapshots(_)) => R::ListSnapshots(app.list_snapshots()),
        Some(Q::OfferSnapshot(r)) => R::OfferSnapshot(app.offer_snapshot(r)),
        Some(Q::LoadSnapshotChunk(r)) => R::LoadSnapshotChunk(app.load_snapshot_chunk(r)),
        Some(Q::ApplySnapshotChunk(r)) => R::ApplySnapshotChunk(app.apply_snapshot_chunk(r)),
        Some(Q::PrepareProposal(r)) => R::PrepareProposal(app.prepare_proposal(r)),
        Some(Q::ProcessProposal(r)) => R::ProcessProposal(app.process_proposal(r)),
        Some(Q::ExtendVote(r)) => R::ExtendVote(app.extend_vote(r)),
        Some(Q::VerifyVoteExtension(r)) => R::VerifyVoteExtension(app.verify_vote_extension(r)),
        Some(Q::FinalizeBlock(r)) => {
            let response = app.finalize_block(r);
            observe(&response);
            R::FinalizeBlock(response)
        }
        None => R::Exception(ResponseException {
            error: "an ABCI request without a value".into(),
        }),
    };
    Response { value: Some(value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;
    use std::io::Read as _;
    use surety_proto::cometbft::abci::RequestEcho;

    #[derive(Clone)]
    struct Echo;
    impl Application for Echo {}

    fn echo(message: &str) -> Request {
        Request {
            value: Some(request::Value::Echo(RequestEcho {
                message: message.into(),
            })),
        }
    }

    #[test]
    fn answers_pipelined_requests_in_order_and_drops_an_oversized_one() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || serve(listener, Echo, |_| {}));

        // Three requests in one write, no Flush among them: all answered, in order.
        let mut conn = TcpStream::connect(addr).unwrap();
        let mut bytes = Vec::new();
        for m in ["a", "b", "c"] {
            echo(m).encode_length_delimited(&mut bytes).unwrap();
        }
        conn.write_all(&bytes).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        for m in ["a", "b", "c"] {
            let answer = read_message::<Response>(&mut reader).unwrap().unwrap();
            match answer.value {
                Some(response::Value::Echo(e)) => assert_eq!(e.message, m),
                other => panic!("expected an echo of {m}, got {other:?}"),
            }
        }

        // A length past the limit closes that connection without reading or allocating it.
        let mut big = TcpStream::connect(addr).unwrap();
        let mut len = Vec::new();
        prost::encoding::encode_varint(MAX_REQUEST_BYTES + 1, &mut len);
        big.write_all(&len).unwrap();
        let mut rest = Vec::new();
        big.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());

        // The server still answers the first connection.
        let mut more = Vec::new();
        echo("d").encode_length_delimited(&mut more).unwrap();
        conn.write_all(&more).unwrap();
        let answer = read_message::<Response>(&mut reader).unwrap().unwrap();
        assert!(matches!(answer.value, Some(response::Value::Echo(e)) if e.message == "d"));
    }
}
