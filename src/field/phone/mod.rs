//! The browser side of the field app. It is compiled into the server too,
//! so components need no `cfg`; only Effects and event handlers call it,
//! and those never run during server rendering.

pub mod delivery;
pub mod device;
pub mod net;
pub mod settings;
pub mod store;
