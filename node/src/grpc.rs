//! The gRPC server. Every query service is answered by one forwarder that hands the method path
//! and the raw protobuf request to the app — the same routing ABCI queries use — so gRPC and
//! ABCI answers cannot drift apart. Honours `x-cosmos-block-height` as Cosmos nodes do.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use surety_app::App;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};

pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// Passes protobuf bytes through untouched.
#[derive(Default, Clone, Copy)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let len = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, len).to_vec()))
    }
}

fn to_status(e: surety_framework::Error) -> Status {
    let code = match e.grpc {
        surety_framework::GrpcCode::NotFound => tonic::Code::NotFound,
        surety_framework::GrpcCode::Internal => tonic::Code::Internal,
        surety_framework::GrpcCode::Unimplemented => tonic::Code::Unimplemented,
        surety_framework::GrpcCode::InvalidArgument => tonic::Code::InvalidArgument,
        surety_framework::GrpcCode::Unavailable => tonic::Code::Unavailable,
    };
    Status::new(code, e.log)
}

struct Method {
    app: App,
    path: String,
}

impl tonic::server::UnaryService<Vec<u8>> for Method {
    type Response = Vec<u8>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, Status>> + Send>>;

    fn call(&mut self, request: Request<Vec<u8>>) -> Self::Future {
        let app = self.app.clone();
        let path = self.path.clone();
        Box::pin(async move {
            let height = match request.metadata().get(HEIGHT_HEADER) {
                None => 0,
                Some(h) => h
                    .to_str()
                    .ok()
                    .and_then(|h| h.parse::<u64>().ok())
                    .ok_or_else(|| Status::invalid_argument(format!("invalid {HEIGHT_HEADER}")))?,
            };
            let body = request.into_inner();
            let (bytes, read_height) =
                tokio::task::spawn_blocking(move || app.query_method(&path, &body, height))
                    .await
                    .map_err(|e| Status::internal(e.to_string()))?
                    .map_err(to_status)?;
            let mut response = Response::new(bytes);
            if let Ok(value) = read_height.to_string().parse() {
                response.metadata_mut().insert(HEIGHT_HEADER, value);
            }
            Ok(response)
        })
    }
}

/// Forwards any gRPC method to the app, which answers `Unimplemented` for paths it does not
/// route, so a module's query service needs no registration here.
#[derive(Clone)]
struct Forward {
    app: App,
}

impl tower::Service<http::Request<axum::body::Body>> for Forward {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<axum::body::Body>) -> Self::Future {
        let method = Method {
            app: self.app.clone(),
            path: request.uri().path().to_string(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.unary(method, request.map(Body::new)).await)
        })
    }
}

/// Serves every query service, plus gRPC reflection (v1 and v1alpha, for grpcurl and friends)
/// describing them, on `address` until the future is dropped.
pub async fn serve(app: App, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(surety_proto::reflection_descriptor_set())
    };
    let routes = tonic::service::Routes::new(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .into_axum_router()
        .fallback_service(Forward { app });
    tonic::transport::Server::builder()
        .add_routes(routes.into())
        .serve(address)
        .await?;
    Ok(())
}
