/**
 * {@code ha-vipd}: a daemon for operators who do not write Java. It runs one HA-Raft node whose
 * leader holds a virtual IP through {@link io.haraft.vip.VipHolder}, configured by a small
 * properties file: {@code java -jar ha-vipd.jar --config /etc/ha-vipd/vip.properties}.
 *
 * <p>This package is the only place in ha-vip-linux that needs a Raft implementation (found at
 * run time through {@link java.util.ServiceLoader}); {@code io.haraft.vip} depends on
 * ha-raft-api alone. See {@code ha-vip-linux/DAEMON.md} for the keys and the behaviour.
 */
package io.haraft.vip.daemon;
