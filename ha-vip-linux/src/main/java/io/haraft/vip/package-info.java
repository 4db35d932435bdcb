/**
 * A virtual IP (VIP) that follows the HA-Raft leader on Linux: {@link io.haraft.vip.VipHolder} is
 * a {@link io.haraft.LeadershipListener} that adds the address with {@code ip addr add} when this
 * node is elected, announces it with gratuitous ARP, and removes it before the lease can run out.
 *
 * <p>Start with {@link io.haraft.vip.VipConfig#builder(String, String)}. Fencing (STONITH) of a
 * host that still answers for the VIP plugs in through {@link io.haraft.vip.Fencer}; every
 * external program runs through {@link io.haraft.vip.Commands}, without a shell and with a
 * timeout.
 *
 * <p>Unless stated otherwise, methods of this package reject {@code null} arguments with a
 * {@link java.lang.NullPointerException} and never return {@code null}.
 */
package io.haraft.vip;
