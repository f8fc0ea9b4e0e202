//! A serial port as a protocol [`Link`] (8N1 at the board's rate, [`crate::Board::baud`]).

use crate::protocol::{Link, ProtocolError};
use std::io::{Read, Write};
use std::time::Duration;

/// A board's UART on a serial device such as `/dev/ttyUSB1`.
pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
}

impl SerialLink {
    /// Opens `path` at `baud`, 8N1, no flow control.
    pub fn open(path: &str, baud: u32) -> Result<SerialLink, ProtocolError> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| ProtocolError::Link {
                action: format!("cannot open serial port {path}"),
                detail: e.to_string(),
            })?;
        Ok(SerialLink { port })
    }
}

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.port.write_all(bytes).map_err(|e| link("serial write failed", e))?;
        self.port.flush().map_err(|e| link("serial write failed", e))
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<u8>, ProtocolError> {
        self.port.set_timeout(timeout).map_err(|e| link("cannot set the serial port's time-out", e))?;
        let mut b = [0u8; 1];
        match self.port.read(&mut b) {
            Ok(1) => Ok(Some(b[0])),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(None),
            Err(e) => Err(link("serial read failed", e)),
        }
    }
}

fn link(action: &str, e: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::Link { action: action.to_string(), detail: e.to_string() }
}
