package ai.lethe.server;

/**
 * A registered model as the database holds it.
 *
 * @param id          model-…
 * @param name        the client's label (the file name by default)
 * @param format      torchscript, or safetensors (weights for the architecture of {@code baseModel})
 * @param file        the stored file, relative to the data directory
 * @param baseModel   for safetensors weights: the TorchScript model that supplies the architecture; else null
 * @param source      "upload" or "path:" and the real server-side path it was copied from
 * @param fingerprint SHA-256 over parameter names, shapes and values (as in importance files and reports)
 * @param parameters  number of parameters
 * @param sizeBytes   size of the stored file
 * @param createdAt   ISO-8601 UTC
 */
record StoredModel(String id, String name, String format, String file, String baseModel, String source,
                   String fingerprint, long parameters, long sizeBytes, String createdAt) {
}
