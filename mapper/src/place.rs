//! Placement of parts on the mesh, minimizing hop-weighted traffic.
//!
//! Cost = Σ traffic(p→q) · hops(pos p, pos q) + Σ input traffic(q) · hops(host, pos q).
//! Start from row-major order, then swap pairs of positions (occupied or
//! empty) while the cost drops. On a crossbar every placement costs the
//! same and the start is kept.

use crate::spec::{HardwareSpec, Interconnect};

/// Part-to-part traffic (rate-weighted packets per step) and host traffic.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// `between[p][q]`, p ≠ q.
    pub between: Vec<Vec<f64>>,
    /// From the host to part q.
    pub from_host: Vec<f64>,
}

fn cost(spec: &HardwareSpec, t: &Traffic, pos: &[u32]) -> f64 {
    let mut c = 0.0;
    for (p, row) in t.between.iter().enumerate() {
        for (q, &x) in row.iter().enumerate() {
            if x > 0.0 {
                c += x * spec.hops(pos[p], pos[q]) as f64;
            }
        }
    }
    for (q, &x) in t.from_host.iter().enumerate() {
        c += x * spec.host_hops(pos[q]) as f64;
    }
    c
}

/// Core id of each part.
pub fn place(spec: &HardwareSpec, t: &Traffic) -> Vec<u32> {
    let k = t.from_host.len();
    let total = spec.cores() as usize;
    // slot_of[position] = part or usize::MAX.
    let mut pos: Vec<u32> = (0..k as u32).collect();
    if spec.interconnect == Interconnect::Crossbar || k <= 1 {
        return pos;
    }
    let mut at: Vec<usize> = (0..total).map(|i| if i < k { i } else { usize::MAX }).collect();
    let mut best = cost(spec, t, &pos);
    for _pass in 0..20 {
        let mut improved = false;
        for i in 0..total {
            for j in i + 1..total {
                let (pi, pj) = (at[i], at[j]);
                if pi == usize::MAX && pj == usize::MAX {
                    continue;
                }
                if pi != usize::MAX {
                    pos[pi] = j as u32;
                }
                if pj != usize::MAX {
                    pos[pj] = i as u32;
                }
                let c = cost(spec, t, &pos);
                if c + 1e-9 < best {
                    best = c;
                    at.swap(i, j);
                    improved = true;
                } else {
                    if pi != usize::MAX {
                        pos[pi] = i as u32;
                    }
                    if pj != usize::MAX {
                        pos[pj] = j as u32;
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
    pos
}

/// Traffic-weighted average hops per packet of a placement.
pub fn average_hops(spec: &HardwareSpec, t: &Traffic, pos: &[u32]) -> f64 {
    let packets: f64 = t.between.iter().flatten().sum::<f64>() + t.from_host.iter().sum::<f64>();
    if packets == 0.0 {
        0.0
    } else {
        cost(spec, t, pos) / packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh(w: u32, h: u32) -> HardwareSpec {
        let mut s = HardwareSpec::preset("large").unwrap();
        s.mesh_width = w;
        s.mesh_height = h;
        s
    }

    #[test]
    fn heavy_pairs_end_up_adjacent() {
        // Parts 0 and 3 exchange most traffic; row-major on a 4x1 mesh puts
        // them 3 hops apart.
        let spec = mesh(4, 1);
        let mut between = vec![vec![0.0; 4]; 4];
        between[0][3] = 100.0;
        between[3][0] = 100.0;
        between[1][2] = 1.0;
        let t = Traffic { between, from_host: vec![0.0; 4] };
        let start = cost(&spec, &t, &[0, 1, 2, 3]);
        let pos = place(&spec, &t);
        assert_eq!(spec.hops(pos[0], pos[3]), 1, "{pos:?}");
        assert!(cost(&spec, &t, &pos) < start);
        // A permutation of distinct cores.
        let mut sorted = pos.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 4);
    }

    #[test]
    fn host_traffic_pulls_towards_core_zero() {
        let spec = mesh(3, 3);
        let t = Traffic { between: vec![vec![0.0; 2]; 2], from_host: vec![0.0, 50.0] };
        let pos = place(&spec, &t);
        assert_eq!(spec.host_hops(pos[1]), 1, "{pos:?}");
    }
}
