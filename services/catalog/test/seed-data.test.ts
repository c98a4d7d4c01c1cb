import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CategorySlug } from '@bazaar/contracts';
import Value from 'typebox/value';
import { DEFAULT_DEMO_MERCHANT_ID, seedCategories, seedProducts } from '../src/store/seed-data.ts';

test('the demo catalog has at least 60 products in at least 6 categories', () => {
  assert.ok(seedProducts.length >= 60, `only ${seedProducts.length} products`);
  assert.ok(seedCategories.length >= 6, `only ${seedCategories.length} categories`);
  const used = new Set(seedProducts.map((p) => p.category));
  assert.equal(used.size, seedCategories.length, 'every category has products');
});

test('every product belongs to a seeded category', () => {
  const slugs = new Set(seedCategories.map((c) => c.slug));
  for (const p of seedProducts) assert.ok(slugs.has(p.category), `${p.name}: unknown category ${p.category}`);
});

test('category slugs are valid and unique', () => {
  const slugs = seedCategories.map((c) => c.slug);
  assert.equal(new Set(slugs).size, slugs.length);
  for (const slug of slugs) assert.ok(Value.Check(CategorySlug, slug), slug);
});

test('product names are unique', () => {
  const names = seedProducts.map((p) => p.name.toLowerCase());
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  assert.deepEqual(dupes, []);
});

test('prices are positive whole numbers of cents within reason', () => {
  for (const p of seedProducts) {
    assert.ok(Number.isInteger(p.price) && p.price > 0, `${p.name}: ${p.price}`);
    assert.ok(p.price < 100_000, `${p.name}: ${p.price} looks like dollars times 100 twice`);
  }
});

test('descriptions are one to three sentences and images never leave the site', () => {
  for (const p of seedProducts) {
    const sentences = p.description.split(/[.!?](\s|$)/).filter((s) => s.trim().length > 0);
    assert.ok(sentences.length >= 1 && sentences.length <= 3, `${p.name}: ${sentences.length} sentences`);
    assert.ok(p.imageUrl === null || p.imageUrl.startsWith('/'), `${p.name}: ${p.imageUrl}`);
  }
});

test('the first page of the storefront mixes categories', () => {
  const firstPage = new Set(seedProducts.slice(0, 20).map((p) => p.category));
  assert.ok(firstPage.size >= 6, `first 20 products span only ${[...firstPage].join(', ')}`);
});

test('the fallback demo merchant id is a UUID', () => {
  assert.match(
    DEFAULT_DEMO_MERCHANT_ID,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});
