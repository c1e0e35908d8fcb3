package ai.lethe.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.ScalarKernels;
import ai.lethe.kernels.TensorList;

class ProfilerTest {

    @AfterEach
    void stop() {
        Profiler.stop();
    }

    @Test
    void disabledSpansAreOneSharedObjectAndRecordNothing() {
        assertFalse(Profiler.recording());
        assertSame(Profiler.span("forward"), Profiler.span("backward"), "no allocation while off");
        Profiler.span("forward").close();
        Profiler.Recording r = Profiler.start(null);
        assertTrue(r.events().isEmpty(), "spans opened before the recording are not in it");
    }

    @Test
    void recordsSpansOfEveryThreadWithTheThreadName() throws Exception {
        Profiler.start(null);
        try (Profiler.Span outer = Profiler.span("update")) {
            try (Profiler.Span inner = Profiler.span("accumulate")) {
                busy(1_000_000);
            }
        }
        Thread t = new Thread(() -> {
            try (Profiler.Span s = Profiler.span("read/decode")) {
                busy(1_000_000);
            }
        }, "lethe-prefetch");
        t.start();
        t.join();
        Profiler.Recording r = Profiler.stop();
        assertEquals(3, r.events().size());
        assertEquals("lethe-prefetch", r.threads().get(t.getId()));
        assertEquals(Thread.currentThread().getName(), r.threads().get(Thread.currentThread().getId()));
        assertThrows(IllegalStateException.class, () -> {
            Profiler.start(null);
            Profiler.start(null);
        }, "one recording at a time");
    }

    @Test
    void rangeListenerSeesBalancedPushesAndPops() {
        List<String> calls = new ArrayList<>();
        Profiler.start(new Profiler.RangeListener() {
            @Override
            public void push(String name) {
                calls.add("push " + name);
            }

            @Override
            public void pop() {
                calls.add("pop");
            }
        });
        try (Profiler.Span a = Profiler.span("forward"); Profiler.Span b = Profiler.span("backward")) {
            busy(10);
        }
        assertEquals(List.of("push forward", "push backward", "pop", "pop"), calls);
    }

    @Test
    void aSpanClosedTwiceIsRecordedOnceAndOneOpenedBeforeTheRecordingNotAtAll() {
        Profiler.Span early = Profiler.span("forward"); // opened while off: the shared no-op
        Profiler.start(null);
        early.close();
        Profiler.Span s = Profiler.span("update");
        s.close();
        s.close();
        Profiler.Recording r = Profiler.stop();
        assertEquals(1, r.events().size(), r.events().toString());
        assertEquals("update", r.events().get(0).name());
    }

    @Test
    void overlappingSpansNeverGiveNegativeSelfTime() {
        // A [0, 100) and B [50, 150) overlap without nesting: A keeps the 50 ns B does not cover
        List<ProfileReport.Phase> phases = ProfileReport.phases(List.of(event("a", 1, 0, 100), event("b", 1, 50, 100)),
                Map.of(1L, "main"), 1e-3);
        assertEquals(50e-6, find(phases, "a").exclusiveMs(), 1e-12);
        assertEquals(100e-6, find(phases, "b").exclusiveMs(), 1e-12);
        // equal start and length: the one recorded later closed later, so it is the outer one
        List<ProfileReport.Phase> same = ProfileReport.phases(List.of(event("inner", 1, 0, 100), event("outer", 1, 0, 100)),
                Map.of(1L, "main"), 1e-3);
        assertEquals(0, find(same, "outer").exclusiveMs(), 1e-12);
        assertEquals(100e-6, find(same, "inner").exclusiveMs(), 1e-12);
    }

    @Test
    void selfTimeSubtractsNestedSpansOnTheSameThreadOnlyAndEvaluationsPhasesAreRowsOfTheirOwn() {
        // main: forward [0, 20) (the unlearning's), then evaluate [20, 120) containing forward [30, 60) and
        // forward [70, 90), the second holding a kernel-free nested span; prefetch: read/decode [0, 30) and [40, 50)
        List<Profiler.Event> events = List.of(
                event("forward", 1, 0, 20),
                event("evaluate", 1, 20, 100), event("forward", 1, 30, 30), event("forward", 1, 70, 20),
                event("h2d", 1, 75, 5),
                event("read/decode", 2, 0, 30), event("read/decode", 3, 40, 10));
        List<ProfileReport.Phase> phases = ProfileReport.phases(events, Map.of(1L, "main", 2L, "lethe-prefetch", 3L, "lethe-prefetch"), 200e-6);
        ProfileReport.Phase evaluate = find(phases, "evaluate");
        assertEquals(100e-6, evaluate.totalMs(), 1e-12);
        assertEquals(50e-6, evaluate.exclusiveMs(), 1e-12);
        assertEquals(0.25, evaluate.share(), 1e-9);
        ProfileReport.Phase forward = find(phases, "forward");
        assertEquals(1, forward.calls(), "the evaluation's forwards are not the unlearning's");
        assertEquals(20e-6, forward.exclusiveMs(), 1e-12);
        ProfileReport.Phase evalForward = find(phases, "evaluate/forward");
        assertEquals(2, evalForward.calls());
        assertEquals(50e-6, evalForward.totalMs(), 1e-12);
        assertEquals(45e-6, evalForward.exclusiveMs(), 1e-12);
        assertEquals(5e-6, find(phases, "evaluate/h2d").exclusiveMs(), 1e-12, "nested at any depth");
        ProfileReport.Phase read = find(phases, "read/decode");
        assertEquals(2, read.calls(), "threads of one name make one row");
        assertEquals(40e-6, read.exclusiveMs(), 1e-12);
        assertEquals("lethe-prefetch", read.thread());
    }

    @Test
    void kernelRowsCountBytesAgainstTheCopy() {
        List<Profiler.Event> events = List.of(
                new Profiler.Event("accumulate_square", "kernel", 1, 0, 1_000_000, Map.of("bytes", 30_000_000L)),
                new Profiler.Event("accumulate_square", "kernel", 1, 2_000_000, 1_000_000, Map.of("bytes", 30_000_000L)));
        ProfileReport.KernelRow k = ProfileReport.kernels(events, 60).get(0);
        assertEquals(2, k.calls());
        assertEquals(2.0, k.totalMs(), 1e-9);
        assertEquals(30.0, k.gbps(), 1e-9);
        assertEquals(0.5, k.ratioToCopy(), 1e-9);
    }

    @Test
    void theDecoratorRecordsEveryKernelCallWithItsBytesAndGivesTheSameResults() {
        Kernels plain = new ScalarKernels();
        Kernels profiled = new ProfilingKernels(plain);
        float[][] g = {{1, 2, 3}, {4, 5, 6, 7, 8, 9, 10}};
        Profiler.start(null);
        float[][] out;
        try (TensorList acc = profiled.allocate(new long[] {3, 7}); TensorList grad = profiled.upload(g)) {
            profiled.accumulateSquare(acc, grad, 0.5f);
            out = profiled.download(acc);
        }
        Profiler.Recording r = Profiler.stop();
        assertEquals(0.5f * 100, out[1][6]);
        Profiler.Event acc = r.events().stream().filter(e -> e.name().equals("accumulate_square")).findFirst().orElseThrow();
        assertEquals("kernel", acc.category());
        assertEquals(12L * 10, ((Number) acc.args().get("bytes")).longValue(), "12 bytes per parameter (docs/algorithms.md, section 6)");
    }

    private static Profiler.Event event(String name, long thread, long startNs, long durNs) {
        return new Profiler.Event(name, "phase", thread, startNs, durNs, null);
    }

    private static ProfileReport.Phase find(List<ProfileReport.Phase> phases, String name) {
        return phases.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name + " in " + phases));
    }

    private static void busy(int n) {
        double x = 0;
        for (int i = 0; i < n; i++) {
            x += Math.sqrt(i);
        }
        if (x < 0) {
            throw new AssertionError();
        }
    }
}
