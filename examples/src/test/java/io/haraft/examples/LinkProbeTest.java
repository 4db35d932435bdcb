package io.haraft.examples;

import io.haraft.examples.LinkVerdict.Outcome;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The link probe: its verdict from counts, its report, its command line, and whole runs over real
 * gRPC on loopback (the members as separate RaftNodes in this JVM, started exactly as on separate
 * hosts, and the loopback mode).
 */
class LinkProbeTest {
    private static final Pattern ROW = Pattern.compile("probe: (n\\d)->(n\\d) answered (\\d+)/(\\d+) \\(.*\\) rtt p50=(\\S+) ms"
            + " p99=(\\S+) ms max=(\\S+) ms (PASS|FAIL|INCONCLUSIVE).*");
    private static final Pattern VERDICT = Pattern.compile(
            "probe: links=(\\d+) fewest_heartbeats=(\\d+) worst_answered=\\S+ verdict=(PASS|FAIL|INCONCLUSIVE)( needed=\\d+)?");

    @Test
    void aPassNeedsEnoughHeartbeatsToShowNinetyNinePointNinePercent() {
        assertThat(LinkVerdict.judge(2995, 2995).outcome()).isEqualTo(Outcome.PASS);
        LinkVerdict short1 = LinkVerdict.judge(2994, 2994);
        assertThat(short1.outcome()).isEqualTo(Outcome.INCONCLUSIVE);
        assertThat(short1.needed()).isEqualTo(2995);
        assertThat(LinkVerdict.judge(0, 0)).isEqualTo(new LinkVerdict(Outcome.INCONCLUSIVE, 0, 0, 2995));
        // 1,000 of 1,000 answered is 100%, and still too little evidence
        assertThat(LinkVerdict.judge(1000, 1000).outcome()).isEqualTo(Outcome.INCONCLUSIVE);

        // one loss: more heartbeats are needed, and the number given is exactly enough
        LinkVerdict oneLoss = LinkVerdict.judge(3000, 2999);
        assertThat(oneLoss.outcome()).isEqualTo(Outcome.INCONCLUSIVE);
        long n = oneLoss.needed();
        assertThat(n).isBetween(4700L, 4800L);
        assertThat(LinkVerdict.judge(n, n - 1).outcome()).isEqualTo(Outcome.PASS);
        assertThat(LinkVerdict.judge(n - 1, n - 2).outcome()).isEqualTo(Outcome.INCONCLUSIVE);
        assertThat(LinkVerdict.judge(5000, 4999).outcome()).isEqualTo(Outcome.PASS);
        assertThat(LinkVerdict.judge(1_000_000, 999_100).outcome()).as("0.09% lost in a million").isEqualTo(Outcome.PASS);
    }

    @Test
    void aFailNeedsClearlyMoreLossThanOneInAThousand() {
        assertThat(LinkVerdict.judge(10, 9).outcome()).as("1 lost in 10").isEqualTo(Outcome.FAIL);
        assertThat(LinkVerdict.judge(1000, 995).outcome()).as("5 lost in 1,000").isEqualTo(Outcome.FAIL);
        assertThat(LinkVerdict.judge(100_000, 99_800).outcome()).as("0.2% lost").isEqualTo(Outcome.FAIL);
        assertThat(LinkVerdict.judge(1000, 998).outcome()).as("2 lost in 1,000: could be chance")
                .isEqualTo(Outcome.INCONCLUSIVE);
        // exactly at the threshold neither side can be shown; the count needed to pass is still given
        LinkVerdict edge = LinkVerdict.judge(1_000_000, 999_000);
        assertThat(edge.outcome()).isEqualTo(Outcome.INCONCLUSIVE);
        assertThat(edge.needed()).isGreaterThan(1_000_000);
        assertThat(edge.answeredShare()).isEqualTo(0.999);
    }

    @Test
    void impossibleCountsAreRefused() {
        assertThatThrownBy(() -> LinkVerdict.judge(3, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4 answered of 3");
        assertThatThrownBy(() -> LinkVerdict.judge(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theOverallVerdictIsTheWorstLink() {
        LinkVerdict pass = LinkVerdict.judge(3000, 3000);
        LinkVerdict fail = LinkVerdict.judge(100, 90);
        LinkVerdict unsure = LinkVerdict.judge(100, 100);
        assertThat(LinkProbe.overall(List.of(pass, pass))).isEqualTo(Outcome.PASS);
        assertThat(LinkProbe.overall(List.of(pass, unsure))).isEqualTo(Outcome.INCONCLUSIVE);
        assertThat(LinkProbe.overall(List.of(unsure, fail, pass))).isEqualTo(Outcome.FAIL);
        assertThat(LinkProbe.overall(List.of())).isEqualTo(Outcome.INCONCLUSIVE);
    }

    @Test
    void theReportHasARowPerLinkAndSaysHowManyHeartbeatsAreNeeded() {
        Duration ms = Duration.ofMillis(1);
        List<ProbeNode.Link> links = List.of(
                new ProbeNode.Link("n1", "n2", 4000, 4000, ms, ms.multipliedBy(2), ms.multipliedBy(3), Optional.empty()),
                new ProbeNode.Link("n2", "n1", 2000, 2000, ms, ms, ms, Optional.empty()),
                new ProbeNode.Link("n3", "n1", 0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                        Optional.of("the turns did not finish in time")));
        Output out = new Output();
        int code = LinkProbe.report(links, 60, 5, out.stream);
        List<String> lines = out.lines();
        assertThat(code).isEqualTo(3);
        assertThat(lines.get(0)).isEqualTo(
                "probe: n1->n2 answered 4000/4000 (100.000%) rtt p50=1.00 ms p99=2.00 ms max=3.00 ms PASS");
        assertThat(lines.get(1)).endsWith("INCONCLUSIVE (needs 2995 heartbeats with no further loss)");
        assertThat(lines.get(2)).isEqualTo("probe: n3->n1 not measured: the turns did not finish in time INCONCLUSIVE"
                + " (needs 2995 heartbeats with no further loss)");
        assertThat(lines.get(lines.size() - 2)).isEqualTo("probe: too few heartbeats to judge 99.9% at 95% confidence:"
                + " the fewest on a link were 0, 2995 are needed; check that every member ran");
        assertThat(lines.get(lines.size() - 1))
                .isEqualTo("probe: links=3 fewest_heartbeats=0 worst_answered=1.00000 verdict=INCONCLUSIVE needed=2995");

        Output failing = new Output();
        assertThat(LinkProbe.report(List.of(new ProbeNode.Link("n1", "n2", 4000, 3900, ms, ms, ms, Optional.empty()),
                links.get(0)), 60, 5, failing.stream)).isEqualTo(1);
        assertThat(failing.lines().get(failing.lines().size() - 1)).endsWith("worst_answered=0.97500 verdict=FAIL");
        Output short1 = new Output();
        assertThat(LinkProbe.report(List.of(links.get(0), links.get(1)), 60, 5, short1.stream)).isEqualTo(3);
        assertThat(short1.lines()).contains("probe: too few heartbeats to judge 99.9% at 95% confidence: the fewest on a"
                + " link were 2000, 2995 are needed; try --seconds 108 or --heartbeat-ms 3");
        Output passing = new Output();
        assertThat(LinkProbe.report(List.of(links.get(0)), 60, 5, passing.stream)).isZero();
    }

    @Test
    void aWrongCommandLineIsRefusedWithWhatToDo() throws Exception {
        assertThat(refusal("--node", "n4", "--members", "n1=h1:7101,n2=h2:7101,n3=h3:7101"))
                .contains("--node n4 is not one of the members [n1, n2, n3]");
        assertThat(refusal("--node", "n1", "--members", "n1=h1:7101,n2=h2")).contains("'n2=h2' is not ID=HOST:PORT");
        assertThat(refusal("--node", "n1", "--members", "n1=h1:7101,n2=h2:7101")).contains("at least 3 members");
        assertThat(refusal("--node", "n1")).contains("--node and --members go together");
        assertThat(refusal("--seconds", "2")).contains("--seconds must be a whole number from 3")
                .contains("each member leads for at least a second");
        assertThat(refusal("--heartbeat-ms", "1")).contains("--heartbeat-ms must be a whole number from 3")
                .contains("slow answers would count as lost");
        assertThat(refusal("--speed", "9")).contains("unknown argument '--speed'").contains("usage:");
    }

    @Test
    void membersStartedAsOnSeparateHostsMeasureEveryLinkOverGrpc() throws Exception {
        List<String> ids = List.of("n1", "n2", "n3");
        StringBuilder members = new StringBuilder();
        for (String id : ids) {
            members.append(members.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(LoopbackPorts.free());
        }
        ExecutorService hosts = Executors.newFixedThreadPool(ids.size());
        try {
            List<Output> outputs = new ArrayList<>();
            List<Future<Integer>> codes = new ArrayList<>();
            for (String id : ids) {
                Output out = new Output();
                outputs.add(out);
                String[] args = {"--node", id, "--members", members.toString(), "--seconds", "3", "--heartbeat-ms", "3"};
                codes.add(hosts.submit(() -> LinkProbe.run(args, out.stream, out.stream)));
            }
            for (int i = 0; i < ids.size(); i++) {
                int code = codes.get(i).get(3, TimeUnit.MINUTES);
                List<String> lines = outputs.get(i).lines();
                String id = ids.get(i);
                List<Matcher> rows = rows(lines);
                assertThat(rows).as("%s measured its links to the two others: %s", id, lines)
                        .extracting(m -> m.group(1) + "->" + m.group(2))
                        .containsExactlyInAnyOrderElementsOf(ids.stream().filter(o -> !o.equals(id)).map(o -> id + "->" + o).toList());
                assertMeasured(rows, lines);
                assertVerdict(lines, 2, code);
            }
        } finally {
            hosts.shutdownNow();
        }
    }

    @Test
    void theLoopbackModeMeasuresEveryLinkInOneRun() throws Exception {
        Output out = new Output();
        int code = LinkProbe.run(new String[] {"--seconds", "3", "--heartbeat-ms", "3"}, out.stream, out.stream);
        List<String> lines = out.lines();
        List<Matcher> rows = rows(lines);
        assertThat(rows).as("one row per link: %s", lines).extracting(m -> m.group(1) + "->" + m.group(2))
                .containsExactlyInAnyOrder("n1->n2", "n1->n3", "n2->n1", "n2->n3", "n3->n1", "n3->n2");
        assertMeasured(rows, lines);
        assertVerdict(lines, 6, code);
    }

    private static List<Matcher> rows(List<String> lines) {
        return lines.stream().map(ROW::matcher).filter(Matcher::matches).toList();
    }

    /** Every link got heartbeats and round trips; one-second turns (a few hundred heartbeats) are too short for a PASS. */
    private static void assertMeasured(List<Matcher> rows, List<String> lines) {
        for (Matcher m : rows) {
            long answered = Long.parseLong(m.group(3));
            long sent = Long.parseLong(m.group(4));
            assertThat(sent).as("heartbeats on %s->%s: %s", m.group(1), m.group(2), lines).isPositive().isLessThan(2995);
            assertThat(answered).isLessThanOrEqualTo(sent);
            double p50 = Double.parseDouble(m.group(5));
            double p99 = Double.parseDouble(m.group(6));
            double max = Double.parseDouble(m.group(7));
            assertThat(max).as("a round trip was sampled").isPositive();
            assertThat(p99).isGreaterThanOrEqualTo(p50).isLessThanOrEqualTo(max);
            assertThat(m.group(8)).isNotEqualTo("PASS");
        }
    }

    private static void assertVerdict(List<String> lines, int links, int code) {
        Matcher v = VERDICT.matcher(lines.get(lines.size() - 1));
        assertThat(v.matches()).as("the last line is the verdict: %s", lines).isTrue();
        assertThat(Integer.parseInt(v.group(1))).isEqualTo(links);
        assertThat(v.group(3)).as("too few heartbeats for a PASS").isNotEqualTo("PASS");
        assertThat(code).isEqualTo(v.group(3).equals("FAIL") ? 1 : 3);
        if (v.group(3).equals("INCONCLUSIVE")) {
            assertThat(v.group(4)).isNotNull();
            assertThat(String.join("\n", lines)).contains("too few heartbeats to judge 99.9% at 95% confidence");
        }
    }

    private static String refusal(String... args) throws Exception {
        Output out = new Output();
        assertThat(LinkProbe.run(args, out.stream, out.stream)).isEqualTo(2);
        return String.join("\n", out.lines());
    }

    /** A PrintStream whose lines can be read back. */
    private static final class Output {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        List<String> lines() {
            stream.flush();
            return bytes.toString(StandardCharsets.UTF_8).lines().toList();
        }
    }
}
