// A large generated flag file (boolean flags with tags and a rollout), shared by the 5,000-flag
// e2e test (dashboard.test.mjs) and bench/form-edit-5000.mjs so both measure the same file.
export function generatedFlagFile(count) {
  const file = { schema_version: 1, flags: [] };
  for (let i = 0; i < count; i++) {
    file.flags.push({
      key: `flag-${String(i).padStart(4, '0')}`, description: `Generated flag number ${i}`, tags: [`team-${i % 20}`],
      kind: 'boolean', enabled: i % 3 !== 0, off_variation: 'off', default_variation: 'off',
      variations: [{ name: 'on', value: true }, { name: 'off', value: false }],
      rollout: { percent_bp: (i * 37) % 10001, variation: 'on' },
    });
  }
  return file;
}
