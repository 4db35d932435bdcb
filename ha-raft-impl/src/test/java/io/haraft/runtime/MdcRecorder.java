package io.haraft.runtime;

import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.spi.MDCAdapter;

import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A test-only MDC that keeps each thread's context where a test can read it, also for another
 * thread. The test logging backend (slf4j-simple) ignores the MDC (its adapter stores nothing),
 * so {@link #install()} puts this adapter in its place for the duration of a test class; what the
 * library puts into the MDC of a thread is then exactly what a log record made on that thread
 * would carry with an MDC-aware backend.
 *
 * <p>Unlike slf4j's {@code BasicMDCAdapter}, a new thread does <em>not</em> inherit its parent's
 * context, so a thread that never sets its own MDC shows up as having none.
 */
final class MdcRecorder implements MDCAdapter {
    private final Map<Thread, Map<String, String>> contexts = Collections.synchronizedMap(new WeakHashMap<>());
    private final Map<Thread, Map<String, Deque<String>>> deques = Collections.synchronizedMap(new WeakHashMap<>());
    private MDCAdapter previous;

    /** Puts this adapter in place of the backend's; {@link #uninstall()} puts the old one back. */
    MdcRecorder install() {
        LoggerFactory.getILoggerFactory();   // the backend binds its adapter once, at initialisation
        previous = MDC.getMDCAdapter();
        set(this);
        return this;
    }

    void uninstall() {
        set(previous);
    }

    private static void set(MDCAdapter adapter) {
        try {
            Method m = MDC.class.getDeclaredMethod("setMDCAdapter", MDCAdapter.class);
            m.setAccessible(true);
            m.invoke(null, adapter);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot replace the MDC adapter of this slf4j version", e);
        }
    }

    /** The MDC of {@code thread} as it is now (empty if it never set one). */
    Map<String, String> contextOf(Thread thread) {
        Map<String, String> m = contexts.get(thread);
        if (m == null) {
            return Map.of();
        }
        synchronized (m) {
            return Map.copyOf(m);
        }
    }

    private Map<String, String> mine() {
        return contexts.computeIfAbsent(Thread.currentThread(), t -> Collections.synchronizedMap(new HashMap<>()));
    }

    @Override
    public void put(String key, String val) {
        mine().put(key, val);
    }

    @Override
    public String get(String key) {
        return mine().get(key);
    }

    @Override
    public void remove(String key) {
        mine().remove(key);
    }

    @Override
    public void clear() {
        mine().clear();
    }

    @Override
    public Map<String, String> getCopyOfContextMap() {
        Map<String, String> m = mine();
        synchronized (m) {
            return new HashMap<>(m);
        }
    }

    @Override
    public void setContextMap(Map<String, String> contextMap) {
        Map<String, String> m = mine();
        synchronized (m) {
            m.clear();
            m.putAll(contextMap);
        }
    }

    @Override
    public void pushByKey(String key, String value) {
        deques.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>())
                .computeIfAbsent(key, k -> new ArrayDeque<>()).push(value);
    }

    @Override
    public String popByKey(String key) {
        Deque<String> d = deques.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>()).get(key);
        return d == null ? null : d.poll();
    }

    @Override
    public Deque<String> getCopyOfDequeByKey(String key) {
        Deque<String> d = deques.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>()).get(key);
        return d == null ? null : new ArrayDeque<>(d);
    }

    @Override
    public void clearDequeByKey(String key) {
        Deque<String> d = deques.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>()).get(key);
        if (d != null) {
            d.clear();
        }
    }
}
