package ai.lethe.fuzz;

/**
 * How long each target is fuzzed in CI (the surefire executions with JAZZER_FUZZ=1, one JVM per target). Longer
 * runs use the standalone driver through scripts/fuzz.sh, which takes the time as an argument.
 */
final class FuzzBudget {

    static final String CI = "10s";

    private FuzzBudget() {
    }
}
