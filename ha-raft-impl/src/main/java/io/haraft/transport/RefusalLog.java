package io.haraft.transport;

import org.slf4j.Logger;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Logs refused connections, streams and messages as one WARN line per remote address and kind of
 * refusal per interval, so that hostile or misconfigured traffic cannot flood the log.
 *
 * <p><b>Guarantees.</b> The first refusal of a kind (what was refused, and the reason up to its
 * first untrusted detail) from a remote host is logged at once, with the
 * full remote address ({@code host:port}) and the reason; further refusals of that kind from that
 * host within {@link #interval} are only counted, and the count is given with the next line logged
 * for that host and kind. Remote hosts are told apart by address alone (every connection comes
 * from a new port). Never logs a stack trace. At most {@value #MAX_TRACKED} hosts are tracked at
 * once; past that, windows that ended are forgotten, and if all are live, new hosts are logged
 * once per interval under one shared key. Thread-safe.
 */
final class RefusalLog {
    static final int MAX_TRACKED = 4096;
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);

    private final Logger log;
    private final Duration interval;
    private final LongSupplier nanos;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        final long start;
        long suppressed;   // guarded by this

        Window(long start) {
            this.start = start;
        }
    }

    RefusalLog(Logger log, Duration interval, LongSupplier nanos) {
        this.log = log;
        this.interval = interval;
        this.nanos = nanos;
    }

    Duration interval() {
        return interval;
    }

    /**
     * Reports one refusal: {@code what} was refused (e.g. "a connection"), from {@code remote}
     * (null if unknown), because of {@code reason} (one line, untrusted text already cleaned).
     *
     * @return whether a line was logged
     */
    boolean refused(String what, SocketAddress remote, String reason) {
        String host = host(remote);
        String key = host + " " + what + " " + category(reason);
        long now = nanos.getAsLong();
        long suppressed;
        while (true) {
            Window w = windows.get(key);
            if (w == null) {
                if (windows.size() >= MAX_TRACKED) {
                    forgetEnded(now);
                    if (windows.size() >= MAX_TRACKED) {
                        key = "* " + what;
                        w = windows.get(key);
                    }
                }
                if (w == null) {
                    if (windows.putIfAbsent(key, new Window(now)) != null) {
                        continue;
                    }
                    suppressed = 0;
                    break;
                }
            }
            synchronized (w) {
                if (now - w.start < interval.toNanos()) {
                    w.suppressed++;
                    return false;
                }
                suppressed = w.suppressed;
            }
            if (windows.replace(key, w, new Window(now))) {
                break;
            }
        }
        String where = remote == null ? "an unknown address" : shown(remote);
        if (suppressed > 0) {
            log.warn("Refused {} from {}: {} ({} more refused from {} in the last {} s were not logged)", what, where,
                    reason, suppressed, host, interval.toSeconds());
        } else {
            log.warn("Refused {} from {}: {} (further refusals from {} are logged at most once per {} s)", what, where,
                    reason, host, interval.toSeconds());
        }
        return true;
    }

    /**
     * The kind of a reason, for the rate limit: its text up to the first quote, colon or
     * parenthesis (where untrusted details start), at most 48 characters.
     */
    static String category(String reason) {
        int end = reason.length();
        for (char c : new char[] {'\'', ':', '(', '"'}) {
            int i = reason.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        return reason.substring(0, Math.min(end, 48)).trim();
    }

    private void forgetEnded(long now) {
        for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
            if (now - it.next().start >= interval.toNanos()) {
                it.remove();
            }
        }
    }

    static String host(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return remote == null ? "?" : shown(remote);
    }

    private static String shown(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(remote);
    }
}
