package ai.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.VectorKernels;

/** 'lethe selftest': passes on the CPU back ends, fails (exit 1, the check named) on a back end that is off. */
class SelftestCommandTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theVectorBackEndPassesEveryCheck() throws Exception {
        CliRunner.Result r = CliRunner.run("selftest", "--device", "cpu", "--quick", "--json");
        assertEquals(0, r.code(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(0, j.get("failed").asInt());
        assertTrue(j.get("checks").asInt() > 100, j.get("checks").toString());
        assertEquals("vector", j.get("device").asText());
    }

    @Test
    void aBackEndOffByOneUlpFailsWithExitOne() throws Exception {
        try (VectorKernels good = new VectorKernels(1)) {
            Kernels broken = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                    (p, m, args) -> {
                        Object result;
                        try {
                            result = m.invoke(good, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (m.getName().equals("accumulateAbs")) {
                            for (float[] a : ((HostTensors) args[0]).arrays()) {
                                if (a.length > 0) { // one ulp off in the first element of the first non-empty tensor
                                    a[0] = Float.isFinite(a[0]) ? Math.nextUp(a[0]) : 0f; // (NaN and inf have no next)
                                    break;
                                }
                            }
                        }
                        return result;
                    });
            SelftestCommand.Report report = SelftestCommand.check(broken, false, null);
            assertEquals(1, report.exitStatus());
            JsonNode j = JSON.readTree(Json.write(report));
            assertTrue(j.get("failed").asInt() >= 1);
            for (JsonNode c : j.get("results")) {
                boolean abs = c.get("name").asText().startsWith("accumulateAbs");
                boolean empty = c.get("name").asText().endsWith("n=0");
                assertEquals(!abs || empty, c.get("passed").asBoolean(), c.toString());
            }
        }
    }

    @Test
    void cudaWithoutADeviceIsAOneLineError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(ai.lethe.kernels.cuda.CudaKernels.probe().available(), "a GPU is present");
        CliRunner.Result r = CliRunner.run("selftest", "--device", "cuda");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().strip().lines().count() == 1 && r.err().contains("CUDA back end unavailable"), r.err());
    }
}
