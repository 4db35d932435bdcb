package io.haraft.vip;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A virtual IP address with its prefix length, IPv4 or IPv6, as given to {@code ip addr add}:
 * {@code 192.0.2.10/24} or {@code 2001:db8::10/64}.
 *
 * <p><b>Guarantees.</b> Immutable and thread-safe. Parsing never touches DNS: only numeric
 * literals are accepted. The address is a usable unicast address: not the unspecified address,
 * not loopback, not multicast, not an IPv4 broadcast, and without a zone ({@code %eth0}). Nor is
 * it the network or the broadcast address of its own prefix (IPv4 up to {@code /30}), or the
 * subnet-router anycast address of its prefix (IPv6 up to {@code /126}: all host bits zero),
 * which every router on that subnet answers for.
 *
 * <pre>{@code
 * VipAddress vip = VipAddress.parse("192.0.2.10/24");
 * vip.cidr();        // "192.0.2.10/24"
 * vip.isIpv6();      // false
 * }</pre>
 *
 * <p><b>Limits.</b> Whether the prefix matches the interface's subnet is not checked: a VIP
 * outside the interface's subnets usually wants {@code /32} (IPv4) or {@code /128} (IPv6).
 *
 * @param address      the address
 * @param prefixLength the prefix length: 1 to 32 for IPv4, 1 to 128 for IPv6
 */
public record VipAddress(InetAddress address, int prefixLength) {

    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    /**
     * Validates.
     *
     * @throws IllegalArgumentException if the address is not a usable unicast address or the
     *                                  prefix is out of range
     */
    public VipAddress {
        Objects.requireNonNull(address, "address");
        int max = address instanceof Inet6Address ? 128 : 32;
        if (prefixLength < 1 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length of the VIP " + address.getHostAddress()
                    + " must be between 1 and " + max + ", got " + prefixLength);
        }
        if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
            throw new IllegalArgumentException("the VIP must not carry a zone (%" + v6.getScopeId()
                    + "): give the interface separately");
        }
        String why = address.isAnyLocalAddress() ? "the unspecified address"
                : address.isLoopbackAddress() ? "a loopback address"
                : address.isMulticastAddress() ? "a multicast address"
                : address instanceof Inet4Address && isBroadcast(address) ? "the broadcast address"
                : null;
        if (why != null) {
            throw new IllegalArgumentException("the VIP " + address.getHostAddress() + " is " + why
                    + "; a VIP must be a unicast address that clients can reach, like 192.0.2.10/24");
        }
        String reserved = reservedInPrefix(address.getAddress(), prefixLength);
        if (reserved != null) {
            throw new IllegalArgumentException("the VIP " + address.getHostAddress() + "/" + prefixLength + " is "
                    + reserved + " of its prefix, not an address a host may take; choose another address in the"
                    + " subnet (with /" + prefixLength + ", neither all host bits 0 nor, for IPv4, all 1)");
        }
    }

    /**
     * Why {@code bytes} cannot be a host's address in a subnet of {@code prefixLength} bits, or
     * null: IPv4 up to /30 reserves all host bits 0 (the network) and all 1 (the broadcast); IPv6
     * up to /126 reserves all host bits 0 (the subnet-router anycast address, RFC 4291). A /31
     * (RFC 3021), a /127 (RFC 6164) and single addresses reserve nothing.
     */
    private static String reservedInPrefix(byte[] bytes, int prefixLength) {
        int bits = bytes.length * 8;
        boolean v6 = bytes.length == 16;
        if (prefixLength > bits - 2) {
            return null;
        }
        boolean allZero = true;
        boolean allOne = true;
        for (int i = prefixLength; i < bits; i++) {
            boolean set = (bytes[i / 8] & (0x80 >>> (i % 8))) != 0;
            allZero &= !set;
            allOne &= set;
        }
        if (allZero) {
            return v6 ? "the subnet-router anycast address" : "the network address";
        }
        return allOne && !v6 ? "the broadcast address" : null;
    }

    /**
     * Parses {@code ADDRESS/PREFIX}, for example {@code 192.0.2.10/24} or {@code 2001:db8::10/64}.
     *
     * @throws IllegalArgumentException with a message that says what is wrong and how it should look
     */
    public static VipAddress parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.strip();
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("the VIP '" + text + "' has no prefix length: write it like "
                    + "192.0.2.10/24 or 2001:db8::10/64 (use /32 or /128 for a single address)");
        }
        String host = s.substring(0, slash);
        String prefix = s.substring(slash + 1);
        int prefixLength;
        try {
            prefixLength = Integer.parseInt(prefix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the prefix length in the VIP '" + text
                    + "' is not a number: write it like 192.0.2.10/24");
        }
        return new VipAddress(parseLiteral(host, text), prefixLength);
    }

    private static InetAddress parseLiteral(String host, String text) {
        boolean v6 = host.indexOf(':') >= 0;
        if (host.indexOf('%') >= 0) {
            throw new IllegalArgumentException("the VIP '" + text + "' must not carry a zone (%...): give the"
                    + " interface separately");
        }
        if (!v6) {
            var m = IPV4.matcher(host);
            if (!m.matches()) {
                throw new IllegalArgumentException("the VIP '" + text + "' is not a numeric IPv4 or IPv6 address"
                        + " (host names are not accepted): write it like 192.0.2.10/24 or 2001:db8::10/64");
            }
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(m.group(i)) > 255) {
                    throw new IllegalArgumentException("the VIP '" + text + "' has an IPv4 part above 255: "
                            + m.group(i));
                }
            }
        } else if (!IPV6.matcher(host).matches()) {
            throw new IllegalArgumentException("the VIP '" + text + "' is not a valid IPv6 address:"
                    + " write it like 2001:db8::10/64");
        }
        try {
            InetAddress address = InetAddress.getByName(host); // a literal: no name lookup
            if (v6 && !(address instanceof Inet6Address)) {
                // an IPv4-mapped IPv6 literal (::ffff:a.b.c.d) comes back as IPv4: refuse the ambiguity
                throw new IllegalArgumentException("the VIP '" + text + "' is an IPv4-mapped IPv6 address:"
                        + " write the IPv4 address itself, like 192.0.2.10/24");
            }
            return address;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("the VIP '" + text + "' is not a valid IPv6 address ("
                    + e.getMessage() + "): write it like 2001:db8::10/64");
        }
    }

    private static boolean isBroadcast(InetAddress address) {
        for (byte b : address.getAddress()) {
            if (b != (byte) 0xff) {
                return false;
            }
        }
        return true;
    }

    /** Whether this is an IPv6 address. */
    public boolean isIpv6() {
        return address instanceof Inet6Address;
    }

    /** The address alone, for example {@code 192.0.2.10} or {@code 2001:db8::10}. */
    public String host() {
        String h = address.getHostAddress();
        return isIpv6() ? compressIpv6(h) : h;
    }

    /** The address with its prefix, as {@code ip addr add} takes it, for example {@code 192.0.2.10/24}. */
    public String cidr() {
        return host() + "/" + prefixLength;
    }

    /** Same as {@link #cidr()}. */
    @Override
    public String toString() {
        return cidr();
    }

    /** Shortens Java's full IPv6 form (2001:db8:0:0:0:0:0:10) to the form {@code ip} prints (2001:db8::10). */
    private static String compressIpv6(String full) {
        String[] parts = full.split(":");
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < parts.length; ) {
            if (parts[i].equals("0")) {
                int j = i;
                while (j < parts.length && parts[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return full;
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(parts, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(parts, bestStart + bestLen, parts.length));
        return head + "::" + tail;
    }
}
