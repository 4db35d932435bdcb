package io.haraft.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

/** One listener's queue alone, on executors the test runs by hand: no thread, no clock. */
class SubscriberTest {
    private static final MonotonicClock CLOCK = () -> 42;

    /** An executor whose tasks run when the test says so; it refuses everything once closed. */
    private static final class ByHand implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        boolean closed;

        @Override
        public void execute(Runnable task) {
            if (closed) {
                throw new RejectedExecutionException("closed");
            }
            tasks.add(task);
        }

        void runAll() {
            Runnable t;
            while ((t = tasks.poll()) != null) {
                t.run();
            }
        }
    }

    private final ByHand callbackThread = new ByHand();
    private final List<Subscriber> removed = new ArrayList<>();
    private final Subscriber.Owner owner = new Subscriber.Owner() {
        @Override
        public Executor callbackThread() {
            return callbackThread;
        }

        @Override
        public String nodeId() {
            return "n1";
        }

        @Override
        public String clusterId() {
            return "c";
        }

        @Override
        public void remove(Subscriber s) {
            removed.add(s);
        }
    };

    @Test
    void callsRunInQueueOrderOneDrainAtATimeAndAreCountedUntilTheyStart() {
        ByHand own = new ByHand();
        Subscriber s = new Subscriber(owner, "listener", own, "leadership listener");
        List<String> ran = new ArrayList<>();
        assertThat(s.call("elected(term 1)", 1, CLOCK, () -> ran.add("elected 1"))).isTrue();
        assertThat(s.call("revoked(term 1)", 1, CLOCK, () -> ran.add("revoked 1"))).isTrue();
        assertThat(own.tasks).as("one drain for both calls").hasSize(1);
        assertThat(s.queued()).isEqualTo(2);
        assertThat(s.busy()).isTrue();
        assertThat(callbackThread.tasks).isEmpty();
        own.runAll();
        assertThat(ran).containsExactly("elected 1", "revoked 1");
        assertThat(s.queued()).isZero();
        assertThat(s.busy()).isFalse();
        s.call("elected(term 2)", 2, CLOCK, () -> ran.add("elected 2"));
        assertThat(own.tasks).as("a new drain once the last one finished").hasSize(1);
        own.runAll();
        assertThat(ran).containsExactly("elected 1", "revoked 1", "elected 2");
    }

    @Test
    void whileACallRunsItIsReportedAndItsThreadKnown() {
        Subscriber s = new Subscriber(owner, "listener", null, "leadership listener");
        List<Object> seen = new ArrayList<>();
        s.call("elected(term 3)", 3, CLOCK, () -> {
            seen.add(s.delivering());
            seen.add(s.deliveringSince());
            seen.add(s.thread() == Thread.currentThread());
            seen.add(s.isRunningHere());
            seen.add(Subscriber.inAnyCall());
        });
        callbackThread.runAll();
        assertThat(seen).containsExactly("elected(term 3)", 42L, true, true, true);
        assertThat(s.delivering()).isNull();
        assertThat(s.thread()).isNull();
        assertThat(s.isRunningHere()).isFalse();
        assertThat(Subscriber.inAnyCall()).isFalse();
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheCallsBehindIt() {
        Subscriber s = new Subscriber(owner, "listener", null, "leadership listener");
        List<String> ran = new ArrayList<>();
        s.call("elected(term 1)", 1, CLOCK, () -> {
            throw new IllegalStateException("listener bug");
        });
        s.call("revoked(term 1)", 1, CLOCK, () -> ran.add("revoked 1"));
        callbackThread.runAll();
        assertThat(ran).containsExactly("revoked 1");
        assertThat(s.delivering()).isNull();
    }

    @Test
    void anExecutorThatRefusesIsReplacedByTheCallbackThreadAndNothingIsDropped() {
        ByHand own = new ByHand();
        own.closed = true;
        Subscriber s = new Subscriber(owner, "listener", own, "leadership listener");
        List<String> ran = new ArrayList<>();
        assertThat(s.call("elected(term 1)", 1, CLOCK, () -> ran.add("elected 1"))).isTrue();
        callbackThread.runAll();
        assertThat(ran).containsExactly("elected 1");
        callbackThread.closed = true;               // the node stopped: nothing can run a call now
        assertThat(s.call("revoked(term 1)", 1, CLOCK, () -> ran.add("revoked 1"))).isFalse();
        assertThat(s.busy()).as("the call that could not be queued is not left behind").isFalse();
        callbackThread.closed = false;
        assertThat(s.call("elected(term 2)", 2, CLOCK, () -> ran.add("elected 2"))).as("queues again").isTrue();
        callbackThread.runAll();
        assertThat(ran).containsExactly("elected 1", "elected 2");
    }

    @Test
    void aCancelledListenerGetsNoMoreCallsButMarkersStillRunInOrder() {
        Subscriber s = new Subscriber(owner, "listener", null, "leadership listener");
        List<String> ran = new ArrayList<>();
        s.call("elected(term 1)", 1, CLOCK, () -> ran.add("elected 1"));
        s.marker(() -> ran.add("marker"));
        s.cancel();
        s.cancel();
        assertThat(removed).containsExactly(s);
        callbackThread.runAll();
        assertThat(ran).containsExactly("marker");
        assertThat(s.queued()).isZero();
    }
}
