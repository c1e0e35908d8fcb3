package ai.lethe.server;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import ai.lethe.data.ForgetSet;

/**
 * What to forget, as a request names it: exactly one of {@code classes}, {@code indices} (0-based training
 * indices) or {@code random} (a fraction, drawn from {@code seed}, default 0).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record ForgetSetSpec(List<Integer> classes, List<Integer> indices, Double random, Long seed) {

    /** The core's forget set; a 400 with the reason when the choice is missing, ambiguous or out of range. */
    ForgetSet toForgetSet() {
        int given = (classes != null ? 1 : 0) + (indices != null ? 1 : 0) + (random != null ? 1 : 0);
        if (given != 1) {
            throw ApiException.badRequest("'forget' needs exactly one of 'classes', 'indices' or 'random', got " + given);
        }
        if (seed != null && random == null) {
            throw ApiException.badRequest("'forget.seed' only applies to 'random'");
        }
        try {
            if (classes != null) {
                return ForgetSet.classes(toInts("classes", classes));
            }
            if (indices != null) {
                if (indices.isEmpty()) {
                    throw ApiException.badRequest("'forget.indices' is empty: list at least one training index");
                }
                return ForgetSet.indices(toInts("indices", indices));
            }
            return ForgetSet.random(random, seed == null ? 0 : seed);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(ApiErrors.message(e));
        }
    }

    private static int[] toInts(String field, List<Integer> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            Integer v = values.get(i);
            if (v == null || v < 0) {
                throw ApiException.badRequest("'forget." + field + "' holds " + v + "; expected non-negative integers");
            }
            out[i] = v;
        }
        return out;
    }
}
