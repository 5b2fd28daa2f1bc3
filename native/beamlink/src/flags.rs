//! Distribution capability flags (`DFLAG_*`), exchanged in the handshake.
//!
//! ```
//! use beamlink::flags::DistFlags;
//! let f = DistFlags::beamlink_default();
//! assert!(f.contains(DistFlags::MANDATORY_25 | DistFlags::V4_NC | DistFlags::UNLINK_ID));
//! assert!(!f.contains(DistFlags::PUBLISHED)); // hidden
//! assert_eq!(format!("{:?}", DistFlags::PUBLISHED | DistFlags::MAP_TAG),
//!            "DistFlags(0x20001: PUBLISHED | MAP_TAG)");
//! ```

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// A set of capability flags (64 bits on the wire since OTP 23).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DistFlags(pub u64);

macro_rules! flags {
    ($($(#[$m:meta])* $name:ident = $v:expr;)*) => {
        impl DistFlags {
            $($(#[$m])* pub const $name: DistFlags = DistFlags($v);)*
            /// Every named flag, lowest bit first.
            pub const NAMED: &'static [(&'static str, DistFlags)] = &[$((stringify!($name), DistFlags($v)),)*];
        }
    };
}

flags! {
    /// Visible node; the connection is hidden unless both sides set it.
    PUBLISHED = 0x1;
    /// Obsolete.
    ATOM_CACHE = 0x2;
    EXTENDED_REFERENCES = 0x4;
    DIST_MONITOR = 0x8;
    FUN_TAGS = 0x10;
    /// Needed to receive DOWN for monitors too.
    DIST_MONITOR_NAME = 0x20;
    HIDDEN_ATOM_CACHE = 0x40;
    NEW_FUN_TAGS = 0x80;
    EXTENDED_PIDS_PORTS = 0x100;
    EXPORT_PTR_TAG = 0x200;
    BIT_BINARIES = 0x400;
    NEW_FLOATS = 0x800;
    /// Changes the format of I/O requests we receive.
    UNICODE_IO = 0x1000;
    DIST_HDR_ATOM_CACHE = 0x2000;
    SMALL_ATOM_TAGS = 0x4000;
    UTF8_ATOMS = 0x10000;
    MAP_TAG = 0x20000;
    BIG_CREATION = 0x40000;
    SEND_SENDER = 0x80000;
    BIG_SEQTRACE_LABELS = 0x100000;
    EXIT_PAYLOAD = 0x400000;
    /// The peer may fragment; also switches the dist header on.
    FRAGMENTS = 0x800000;
    HANDSHAKE_23 = 0x1000000;
    UNLINK_ID = 0x2000000;
    /// Bit 26, not 36 as the docs say: stands for all of [`DistFlags::MANDATORY_25`].
    MANDATORY_25_DIGEST = 0x4000000;
    /// We answer SPAWN_REQUEST.
    SPAWN = 1 << 32;
    /// Ask the acceptor for a dynamic name.
    NAME_ME = 1 << 33;
    V4_NC = 1 << 34;
    /// We accept ALIAS_SEND.
    ALIAS = 1 << 35;
    /// Internal to the emulator; never on the wire.
    LOCAL_EXT = 1 << 36;
    /// OTP 28: we accept ALTACT_SIG_SEND.
    ALTACT_SIG = 1 << 37;
}

impl DistFlags {
    pub const EMPTY: DistFlags = DistFlags(0);

    /// What OTP 25 requires (`0x1070F94`), the set the digest bit stands for.
    pub const MANDATORY_25: DistFlags = DistFlags(
        Self::EXTENDED_REFERENCES.0
            | Self::FUN_TAGS.0
            | Self::NEW_FUN_TAGS.0
            | Self::EXTENDED_PIDS_PORTS.0
            | Self::EXPORT_PTR_TAG.0
            | Self::BIT_BINARIES.0
            | Self::NEW_FLOATS.0
            | Self::UTF8_ATOMS.0
            | Self::MAP_TAG.0
            | Self::BIG_CREATION.0
            | Self::HANDSHAKE_23.0,
    );

    /// What OTP 26 and later require from a peer.
    pub const MANDATORY_26: DistFlags = DistFlags(Self::MANDATORY_25.0 | Self::V4_NC.0 | Self::UNLINK_ID.0);

    /// Hidden-node flags: OTP 26+'s mandatory set plus the digest bit, monitors, fragments,
    /// spawn, alias, small atom tags, send-sender, exit payload and unicode I/O. No PUBLISHED,
    /// no atom cache.
    pub const fn beamlink_default() -> DistFlags {
        DistFlags(
            Self::MANDATORY_26.0
                | Self::MANDATORY_25_DIGEST.0
                | Self::DIST_MONITOR.0
                | Self::DIST_MONITOR_NAME.0
                | Self::SMALL_ATOM_TAGS.0
                | Self::UNICODE_IO.0
                | Self::SEND_SENDER.0
                | Self::BIG_SEQTRACE_LABELS.0
                | Self::EXIT_PAYLOAD.0
                | Self::FRAGMENTS.0
                | Self::SPAWN.0
                | Self::ALIAS.0,
        )
    }

    pub const fn bits(self) -> u64 {
        self.0
    }
    pub const fn contains(self, other: DistFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn intersects(self, other: DistFlags) -> bool {
        self.0 & other.0 != 0
    }
    pub fn insert(&mut self, other: DistFlags) {
        self.0 |= other.0;
    }
    pub fn remove(&mut self, other: DistFlags) {
        self.0 &= !other.0;
    }
    pub const fn with(self, other: DistFlags) -> DistFlags {
        DistFlags(self.0 | other.0)
    }
    pub const fn without(self, other: DistFlags) -> DistFlags {
        DistFlags(self.0 & !other.0)
    }

    /// The flags a peer really has: the digest bit stands for the whole OTP 25 set, as OTP and
    /// ei read it.
    pub const fn expand_digest(self) -> DistFlags {
        if self.0 & Self::MANDATORY_25_DIGEST.0 != 0 {
            DistFlags(self.0 | Self::MANDATORY_25.0)
        } else {
            self
        }
    }

    /// Names of the set named flags, lowest bit first.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED.iter().filter(|(_, f)| self.contains(*f)).map(|(n, _)| *n).collect()
    }

    /// Bits set that have no name here.
    pub fn unknown(self) -> DistFlags {
        let known = Self::NAMED.iter().fold(0, |a, (_, f)| a | f.0);
        DistFlags(self.0 & !known)
    }
}

impl BitOr for DistFlags {
    type Output = DistFlags;
    fn bitor(self, r: DistFlags) -> DistFlags {
        DistFlags(self.0 | r.0)
    }
}
impl BitOrAssign for DistFlags {
    fn bitor_assign(&mut self, r: DistFlags) {
        self.0 |= r.0;
    }
}
impl BitAnd for DistFlags {
    type Output = DistFlags;
    fn bitand(self, r: DistFlags) -> DistFlags {
        DistFlags(self.0 & r.0)
    }
}
impl Not for DistFlags {
    type Output = DistFlags;
    fn not(self) -> DistFlags {
        DistFlags(!self.0)
    }
}

impl fmt::Debug for DistFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistFlags({:#x}: ", self.0)?;
        let mut names = self.names();
        let unknown = self.unknown();
        let extra = format!("{:#x}", unknown.0);
        if unknown.0 != 0 {
            names.push(&extra);
        }
        if names.is_empty() {
            f.write_str("empty")?;
        } else {
            f.write_str(&names.join(" | "))?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_numbers() {
        assert_eq!(DistFlags::MANDATORY_25.0, 0x1070F94);
        assert_eq!(DistFlags::MANDATORY_26.0 & !DistFlags::MANDATORY_25.0, 0x402000000);
        assert_eq!(DistFlags::MANDATORY_25_DIGEST.0, 1 << 26);
        assert_eq!(DistFlags::LOCAL_EXT.0, 1 << 36);
    }

    #[test]
    fn decodes_measured_otp25_flags() {
        // OTP 25.2.3 visible node, measured (notes §2.6).
        let f = DistFlags(0x0000000d07df7fbd);
        assert!(f.unknown().0 == 0, "{f:?}");
        assert_eq!(f.names().len(), 26);
        assert!(f.contains(DistFlags::PUBLISHED | DistFlags::ALIAS | DistFlags::SPAWN));
        assert!(DistFlags(0x2d07df7fbd).contains(DistFlags::ALTACT_SIG));
    }

    #[test]
    fn digest_expansion() {
        let ei = DistFlags(0x0000000407074f9c);
        assert!(ei.expand_digest().contains(DistFlags::MANDATORY_26));
        assert!(!DistFlags::V4_NC.expand_digest().contains(DistFlags::MAP_TAG));
    }

    #[test]
    fn debug_lists_unknown_bits() {
        let s = format!("{:?}", DistFlags(0x8000 | 1));
        assert_eq!(s, "DistFlags(0x8001: PUBLISHED | 0x8000)");
        assert_eq!(format!("{:?}", DistFlags::EMPTY), "DistFlags(0x0: empty)");
    }
}
