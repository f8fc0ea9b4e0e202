//! The whole board top, UART bridge included, under Verilator, with the
//! host protocol client (the code `spikeforge run` uses on a serial port)
//! talking bytes to it: load, run, compare with golden; then a corrupted
//! frame, a time-out and a raised error flag.

mod common;
use common::*;
use spikeforge_fpga::protocol::{self, cmd, reply, Client, Link, ProtocolError};
use spikeforge_mapper::{Algorithm, HardwareSpec};
use spikeforge_sim::uart::{build_board, SimLink};

fn small_spec() -> HardwareSpec {
    HardwareSpec {
        name: "uart-sim".into(),
        mesh_width: 2,
        mesh_height: 2,
        neurons_per_core: 3,
        axons_per_core: 16,
        synapses_per_core: 32,
        routes_per_core: 16,
        input_neurons: 8,
        input_routes: 16,
        ..HardwareSpec::preset("tiny").unwrap()
    }
}

#[test]
fn board_over_uart_equals_golden_and_reports_errors() {
    let spec = small_spec();
    let built = build_board(&spec).unwrap_or_else(|e| panic!("{e}"));
    let net = network(RING);
    let stim = stimulus(&net, RING_STIM);
    let m = mapped(&net, &spec, Algorithm::Multilevel);
    let steps = 16;
    let mut c = Client::new(SimLink::new(&built).unwrap(), spikeforge_fpga::BAUD);
    c.load(&m, &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let r = c.run(&m, &stim, steps, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let (spikes, cycles) = (r.spikes, r.cycles);
    let g = spikeforge_golden::run(&net, &stim, steps).unwrap();
    assert!(!g.spikes.is_empty());
    assert_eq!(spikes, g.spikes, "spikes over the UART differ from golden");
    assert_eq!(cycles.len(), steps as usize);
    for (n, p) in m.placement.iter().enumerate() {
        if let Some((core, slot)) = *p {
            assert_eq!(c.peek(core, slot).unwrap(), g.potentials[n], "potential of {}", net.neuron_name(n as u32));
        }
    }
    let st = c.status().unwrap();
    assert_eq!((st.errors, st.busy, st.step_count), (0, false, steps));

    // A corrupted frame (one payload byte changed in transit) is refused
    // with the CRC code, and the next good request works.
    let mut f = protocol::request(cmd::PEEK, &[0, 0, 0, 1]);
    f[4] ^= 0x40;
    c.link.send(&f).unwrap();
    let r = c.next_reply("the NAK").unwrap();
    assert_eq!((r.kind, r.payload.as_slice()), (reply::NAK, &[1u8][..]));
    assert_eq!(c.status().unwrap().errors, 0);
    // An unknown command and a wrong length get their own codes.
    let e = {
        c.link.send(&protocol::request(0x42, &[])).unwrap();
        c.next_reply("the NAK").unwrap()
    };
    assert_eq!(e.payload, vec![2]);
    c.link.send(&protocol::request(cmd::PEEK, &[1])).unwrap();
    assert_eq!(c.next_reply("the NAK").unwrap().payload, vec![3]);

    // A frame cut short gets no reply: the client times out with a message.
    c.timeout = std::time::Duration::from_millis(20);
    c.link.send(&[protocol::REQUEST_SYNC, cmd::STATUS]).unwrap();
    let e = c.next_reply("the status").unwrap_err();
    assert!(matches!(e, ProtocolError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("no reply from the board within 20 ms"), "{e}");
    // Resynchronize: the board waits for the length byte, so send one with
    // a bad CRC; it answers NAK and is back in step.
    c.link.send(&[0, 0xff]).unwrap();
    c.timeout = std::time::Duration::from_secs(2);
    assert_eq!(c.next_reply("the NAK").unwrap().kind, reply::NAK);

    // An input index beyond the host table raises error flag 1; a run reports it.
    c.inputs(&[60000]).unwrap();
    assert_eq!(c.status().unwrap().errors, 0b10);
    let e = c.run(&m, &stim, 1, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("input index out of range"), "{e}");
    c.clear_errors().unwrap();
    assert_eq!(c.status().unwrap().errors, 0);
}
