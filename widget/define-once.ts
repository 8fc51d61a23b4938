/** Registering custom elements that may be registered already. */

/** Defines each of `elements` in `registry` unless its tag is taken; no registry, nothing. */
export function defineOnce(
  registry: CustomElementRegistry | undefined,
  elements: readonly [keyof HTMLElementTagNameMap, CustomElementConstructor][],
): void {
  if (!registry) return;
  for (const [tag, element] of elements) {
    if (!registry.get(tag)) registry.define(tag, element);
  }
}
