//! Errors with Cosmos SDK codespaces and codes, so clients can match on them.

use std::fmt;

/// gRPC status codes used when a query fails (cosmjs matches `rpc error: code = NotFound`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcCode {
    InvalidArgument,
    NotFound,
    Internal,
    Unimplemented,
    /// The node cannot answer yet (its CometBFT is not up); worth retrying.
    Unavailable,
}

impl GrpcCode {
    pub fn name(self) -> &'static str {
        match self {
            GrpcCode::InvalidArgument => "InvalidArgument",
            GrpcCode::NotFound => "NotFound",
            GrpcCode::Internal => "Internal",
            GrpcCode::Unimplemented => "Unimplemented",
            GrpcCode::Unavailable => "Unavailable",
        }
    }
}

/// An error result: `codespace` and `code` identify it, `log` explains it to a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub codespace: &'static str,
    pub code: u32,
    pub log: String,
    pub grpc: GrpcCode,
}

impl Error {
    /// A registered error wrapped with details, formatted as Cosmos does: `<details>: <description>`.
    pub fn new(
        codespace: &'static str,
        code: u32,
        description: &str,
        details: impl fmt::Display,
    ) -> Self {
        let details = details.to_string();
        let log = if details.is_empty() {
            description.to_string()
        } else {
            format!("{details}: {description}")
        };
        Error {
            codespace,
            code,
            log,
            grpc: GrpcCode::InvalidArgument,
        }
    }

    pub fn with_grpc(mut self, grpc: GrpcCode) -> Self {
        self.grpc = grpc;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (codespace {}, code {})",
            self.log, self.codespace, self.code
        )
    }
}

impl std::error::Error for Error {}

/// Declares a module's registered errors, Cosmos style: each is a constructor taking the details,
/// with a fixed codespace, code and description.
///
/// ```ignore
/// surety_framework::errors! { "pool";
///     pool_not_found = 2, "pool not found";
/// }
/// ```
#[macro_export]
macro_rules! errors {
    ($codespace:literal; $($name:ident = $code:literal, $desc:literal;)*) => {
        pub const CODESPACE: &str = $codespace;
        $(
            pub fn $name(details: impl ::std::fmt::Display) -> $crate::Error {
                $crate::Error::new(CODESPACE, $code, $desc, details)
            }
        )*
    };
}

/// The Cosmos SDK root codespace (`sdk`), with its standard numbers and descriptions.
pub mod sdk {
    use super::{Error, GrpcCode};
    use std::fmt::Display;

    pub const CODESPACE: &str = "sdk";

    macro_rules! sdk_errors {
        ($($name:ident = $code:literal, $desc:literal;)*) => {
            $(
                pub fn $name(details: impl Display) -> Error {
                    Error::new(CODESPACE, $code, $desc, details)
                }
            )*
        };
    }

    sdk_errors! {
        internal = 1, "internal";
        tx_decode = 2, "tx parse error";
        unauthorized = 4, "unauthorized";
        insufficient_funds = 5, "insufficient funds";
        unknown_request = 6, "unknown request";
        invalid_address = 7, "invalid address";
        invalid_pubkey = 8, "invalid pubkey";
        unknown_address = 9, "unknown address";
        invalid_coins = 10, "invalid coins";
        out_of_gas = 11, "out of gas";
        memo_too_large = 12, "memo too large";
        insufficient_fee = 13, "insufficient fee";
        too_many_signatures = 14, "maximum number of signatures exceeded";
        no_signatures = 15, "no signatures supplied";
        invalid_request = 18, "invalid request";
        tx_too_large = 21, "tx too large";
        invalid_height = 26, "invalid height";
        invalid_chain_id = 28, "invalid chain-id";
        invalid_type = 29, "invalid type";
        tx_timeout_height = 30, "tx timeout height";
        unknown_extension_options = 31, "unknown extension options";
        wrong_sequence = 32, "incorrect account sequence";
        invalid_gas_limit = 41, "invalid gas limit";
    }

    /// `key not found`, reported to gRPC clients as NotFound.
    pub fn not_found(details: impl Display) -> Error {
        Error::new(CODESPACE, 22, "key not found", details).with_grpc(GrpcCode::NotFound)
    }
}

/// Failures that no input can cause and no retry can mend: the node must stop rather than commit
/// past them. Everything else that goes wrong in a block hook is one item's failure, recorded and
/// survived (see [`crate::Ctx::isolate`]).
pub mod fatal {
    crate::errors! { "fatal";
        store = 1, "store unreadable";
        invariant = 2, "invariant broken";
        upgrade_needed = 3, "upgrade needed";
    }
}

impl Error {
    /// Whether this error must stop the node.
    pub fn is_fatal(&self) -> bool {
        self.codespace == fatal::CODESPACE
    }
}
