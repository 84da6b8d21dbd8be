//! What the harness asks of Linux: pinning, the descriptor limit, and a process's CPU time
//! and resident memory from `/proc`.

use std::time::Duration;

/// Pin the calling thread (and the threads it starts later) to `cpu`, when the machine
/// has it: the server on one core, the generator on the other.
pub fn pin_to_cpu(cpu: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpu >= cpus {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it, and
    // sched_setaffinity reads `size_of` bytes of it for the calling thread (pid 0).
    #[allow(unsafe_code)]
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// End this process when the process that started it ends, however that ends: a server
/// never outlives its generator.
pub fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and reads no memory.
    #[allow(unsafe_code)]
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// Raise the open-file limit to its hard limit (10,000 connections need more than 1,024).
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the one struct passed by pointer.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    limit.rlim_cur
}

/// User plus system CPU time `pid` has used so far (`/proc/PID/stat`, fields 14 and 15).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf reads no memory of ours.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

/// The CPU time this process has used so far (all its threads).
pub fn own_cpu_time() -> Duration {
    cpu_time(std::process::id())
}

/// Resident memory of `pid` in bytes (`VmRSS` in `/proc/PID/status`).
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Ask the kernel to stamp each segment that reaches socket `fd` with the time it arrived
/// (`SO_TIMESTAMPNS`); [`recv_stamped`] then returns the stamp. On loopback the receiving
/// end's TCP runs inside the sender's `sendto` (the server's profiles show it), so the stamp
/// is when the server sent the bytes, however long the reader takes to get to them; the
/// tests check it is the write's time, not the read's. When no other socket has it on,
/// the kernel turns stamping on from a work item a moment later: the workloads turn it on
/// as each client connects, well before the first timed message.
pub fn stamp_arrivals(fd: std::os::fd::RawFd) -> std::io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes at `&on`, which lives across it.
    #[allow(unsafe_code)]
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// One non-blocking `recvmsg` on `fd` into `buf`: the bytes read and, when the socket has
/// [`stamp_arrivals`] on, when the last segment read arrived, as an [`Instant`] (the
/// kernel's stamp is wall-clock time, converted here against both clocks read together).
///
/// [`Instant`]: std::time::Instant
pub fn recv_stamped(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<std::time::Instant>)> {
    // Room for one control message holding a timespec, aligned for cmsghdr.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: a zeroed msghdr is valid (no name, no iovecs, no control) until filled in.
    #[allow(unsafe_code)]
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: recvmsg writes at most `iov_len` bytes into `buf` and at most
    // `msg_controllen` into `control`, both borrowed mutably for the call.
    #[allow(unsafe_code)]
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: the CMSG_* walk stays inside the `msg_controllen` bytes the kernel wrote;
    // a SCM_TIMESTAMPNS message carries one timespec, read unaligned.
    #[allow(unsafe_code)]
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                stamp = Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let at = stamp.map(|arrived| {
        let (now, wall) = (std::time::Instant::now(), std::time::SystemTime::now());
        let wall = wall
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        now.checked_sub(wall.saturating_sub(arrived)).unwrap_or(now)
    });
    Ok((n as usize, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::time::Instant;

    /// A connected loopback pair: (writer, reader).
    fn pair() -> (std::net::TcpStream, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let writer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (reader, _) = listener.accept().unwrap();
        (writer, reader)
    }

    /// `recv_stamped` until it returns bytes (1 s at most).
    fn read(fd: std::os::fd::RawFd, buf: &mut [u8]) -> (usize, Option<Instant>) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            match recv_stamped(fd, buf) {
                Ok(r) => return r,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "nothing to read after 1 s");
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("recvmsg: {e}"),
            }
        }
    }

    #[test]
    fn the_stamp_is_when_the_bytes_arrived_not_when_they_were_read() {
        let (mut writer, reader) = pair();
        stamp_arrivals(reader.as_raw_fd()).unwrap();
        let mut buf = [0u8; 64];
        // The first socket of the system to ask turns stamping on from a kernel work item,
        // a moment later (`net_enable_timestamp`): wait for a stamped byte first (1 s).
        for attempt in 0.. {
            writer.write_all(b"?").unwrap();
            if read(reader.as_raw_fd(), &mut buf).1.is_some() {
                break;
            }
            assert!(attempt < 100, "no stamp after 1 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = Instant::now();
        writer.write_all(b"stamped").unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let before_read = Instant::now();
        let (n, at) = read(reader.as_raw_fd(), &mut buf);
        assert_eq!(&buf[..n], b"stamped");
        let at = at.expect("a stamp");
        // Arrived after the write began (1 ms for the two clocks' conversion) and well
        // before the read, which came 60 ms after the write.
        assert!(
            at + Duration::from_millis(1) >= sent,
            "{:?} before the write",
            sent - at
        );
        assert!(
            at + Duration::from_millis(40) <= before_read,
            "{:?} before the read: the read's time, not the arrival's",
            before_read.saturating_duration_since(at)
        );
    }

    #[test]
    fn nothing_to_read_is_would_block_and_the_end_is_zero() {
        let (writer, reader) = pair();
        stamp_arrivals(reader.as_raw_fd()).unwrap();
        let mut buf = [0u8; 64];
        let e = recv_stamped(reader.as_raw_fd(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        drop(writer);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            recv_stamped(reader.as_raw_fd(), &mut buf).unwrap(),
            (0, None)
        );
    }

    #[test]
    fn without_stamp_arrivals_there_is_no_stamp() {
        let (mut writer, reader) = pair();
        writer.write_all(b"plain").unwrap();
        let mut buf = [0u8; 64];
        let (n, at) = read(reader.as_raw_fd(), &mut buf);
        assert_eq!((&buf[..n], at), (&b"plain"[..], None));
    }
}
