/**
 * The demo catalog a first start fills an empty database with. Prices are in minor units of the
 * store's currency. The seed gives the first product the latest `created_at`, and the products
 * take turns by category, so the storefront's first page (newest first) shows a bit of everything.
 */

/** The owner of the seeded products when `BAZAAR_DEMO_MERCHANT_ID` is not set. */
export const DEFAULT_DEMO_MERCHANT_ID = '5eed0000-0000-4000-8000-00000000d3e0';

/** A category to seed. */
export interface SeedCategory {
  slug: string;
  name: string;
}

/** A product to seed; the merchant, currency, id and timestamps are added when it is written. */
export interface SeedProduct {
  name: string;
  description: string;
  price: number;
  category: string;
  imageUrl: string | null;
}

/** The demo categories. */
export const seedCategories: readonly SeedCategory[] = [
  { slug: 'kitchen', name: 'Kitchen' },
  { slug: 'electronics', name: 'Electronics' },
  { slug: 'books', name: 'Books' },
  { slug: 'outdoors', name: 'Outdoors' },
  { slug: 'home', name: 'Home' },
  { slug: 'toys', name: 'Toys & Games' },
  { slug: 'apparel', name: 'Apparel' },
  { slug: 'beauty', name: 'Beauty' },
];

type Row = [name: string, price: number, description: string];

// Images are left null: the web app draws a placeholder, and nothing points at an outside host.
function inCategory(category: string, rows: Row[]): SeedProduct[] {
  return rows.map(([name, price, description]) => ({ name, description, price, category, imageUrl: null }));
}

const byCategory: SeedProduct[][] = [
  inCategory('kitchen', [
    [
      'Ceramic Pour-Over Coffee Dripper',
      2499,
      'A hand-glazed ceramic dripper that takes standard #2 paper filters. Spiral ribs inside keep the water flowing evenly for a clean, bright cup of coffee.',
    ],
    [
      'Conical Burr Coffee Grinder',
      8999,
      'Stainless steel conical burrs with 40 grind settings, from espresso-fine to French-press coarse. Quiet, consistent and easy to clean.',
    ],
    [
      'Cold Brew Coffee Maker',
      3499,
      'A 1.5-litre glass carafe with a fine mesh filter. Steep coffee overnight in the fridge for smooth, low-acid cold brew.',
    ],
    [
      'Stoneware Mug Set of Four',
      3999,
      'Four 12 oz mugs in a speckled oatmeal glaze, sized for a morning coffee or an afternoon tea. Dishwasher and microwave safe.',
    ],
    [
      'Pre-Seasoned Cast Iron Skillet, 10 inch',
      3999,
      'Goes from stovetop to oven to campfire and gets better with every use. Arrives seasoned with vegetable oil and ready to cook.',
    ],
    [
      "Forged Chef's Knife, 8 inch",
      7999,
      'High-carbon stainless steel with a full tang and a pakkawood handle. Holds a keen edge through months of daily prep.',
    ],
    [
      'End-Grain Walnut Cutting Board',
      8499,
      'Hand-assembled from solid American walnut. The end grain is gentle on knife edges and hides cut marks.',
    ],
    [
      'Enameled Dutch Oven, 5.5 quart',
      12999,
      'Heavy enameled cast iron that holds heat for slow braises, soups and crusty no-knead bread. Oven safe to 500°F.',
    ],
    [
      'Digital Kitchen Scale',
      2299,
      'Weighs up to 5 kg in 1 g steps, with a tare button and a removable stainless platform. Runs for months on two AAA batteries.',
    ],
    [
      'Silicone Baking Mat Set',
      1699,
      'Two non-stick mats that replace parchment paper for cookies, pastry and roasted vegetables. Oven safe and reusable for years.',
    ],
  ]),
  inCategory('electronics', [
    [
      'Noise-Cancelling Wireless Headphones',
      19999,
      'Over-ear headphones with adaptive noise cancelling and 30 hours of battery life. Fold flat into the included hard case.',
    ],
    [
      'Portable Bluetooth Speaker',
      5999,
      'Waterproof, dustproof and loud enough for a backyard party. Pairs with a second speaker for stereo sound.',
    ],
    [
      'USB-C Fast Charger, 65 W',
      3999,
      'A compact gallium nitride charger with two USB-C ports and one USB-A port. Powers a laptop and a phone at the same time.',
    ],
    [
      'Tenkeyless Mechanical Keyboard',
      8999,
      'Hot-swappable tactile switches, PBT keycaps and a detachable braided cable. Compact enough to leave room for the mouse.',
    ],
    [
      'Wireless Ergonomic Mouse',
      4499,
      'A sculpted vertical grip that keeps your wrist in a natural handshake position. Switches between three paired devices.',
    ],
    [
      '4K Streaming Media Player',
      4999,
      'Streams in 4K HDR with Dolby Vision and comes with a voice remote. Plugs straight into an HDMI port.',
    ],
    [
      'Smart LED Desk Lamp',
      5499,
      'Adjustable colour temperature and brightness, with a built-in wireless charging pad in the base.',
    ],
    [
      'Portable Power Bank, 20,000 mAh',
      3499,
      'Charges a phone four times over and supports 20 W fast charging. Slim enough for a jacket pocket.',
    ],
  ]),
  inCategory('books', [
    [
      "The Home Coffee Roaster's Handbook",
      2799,
      'A practical guide to roasting coffee at home, from choosing green beans to reading the first crack. Includes roast logs and troubleshooting tables.',
    ],
    [
      'Field Guide to North American Birds',
      2499,
      'More than 800 species with range maps and side-by-side illustrations. Sturdy flexible cover for the trail.',
    ],
    [
      'The Weekday Vegetarian Cookbook',
      3299,
      'One hundred meatless dinners that come together in under 40 minutes, organised by season.',
    ],
    [
      "The Lighthouse Keeper's Daughter",
      1699,
      'A novel of one family, one island and the storm that changes everything. Winner of a regional fiction prize.',
    ],
    [
      'Practical Woodworking for Beginners',
      2999,
      'Twelve projects that teach the essential joints, from a simple box to a sturdy workbench. Clear step-by-step photographs.',
    ],
    [
      'The Night Sky Atlas',
      3499,
      'Star charts for every season in both hemispheres, with notes on the planets, meteor showers and deep-sky objects.',
    ],
    [
      'Bread by Hand',
      2799,
      'Sourdough, rye and enriched doughs explained without special equipment. Every loaf is photographed at each stage.',
    ],
    [
      'Mindful Money: Budgeting for Real Life',
      1899,
      'A calm, practical approach to spending plans, savings and paying off debt, with worksheets you can copy.',
    ],
  ]),
  inCategory('outdoors', [
    [
      'Ultralight Two-Person Backpacking Tent',
      24999,
      'A freestanding tent that weighs under 1.3 kg with two doors and two vestibules. Pitches in minutes, even in the rain.',
    ],
    [
      'Down Sleeping Bag, 20°F',
      17999,
      'Water-resistant 650-fill down in a mummy cut that packs to the size of a loaf of bread.',
    ],
    [
      'Insulated Stainless Water Bottle, 32 oz',
      3499,
      'Double-wall vacuum insulation keeps drinks cold for 24 hours or hot for 12. Leak-proof lid with a carry loop.',
    ],
    [
      'Carbon Fiber Trekking Poles',
      8999,
      'A pair of three-section poles with cork grips and quick flick locks. Collapse small enough to strap to a daypack.',
    ],
    [
      'Rechargeable Headlamp, 350 Lumens',
      3299,
      'A bright flood and spot beam with a red night-vision mode. Charges over USB-C and runs up to 40 hours on low.',
    ],
    [
      'Compact Canister Camp Stove',
      4999,
      'Boils a litre of water in about three minutes and folds into its own mug. Piezo ignition, no matches needed.',
    ],
    [
      'Parachute Nylon Hammock with Tree Straps',
      5999,
      'Holds up to 180 kg and packs into an attached pouch. Tree-friendly straps set up in under a minute.',
    ],
    [
      'Waterproof Daypack, 25 L',
      6999,
      'Roll-top closure, welded seams and padded shoulder straps. Keeps a change of clothes dry on the wettest hike.',
    ],
  ]),
  inCategory('home', [
    [
      'Stonewashed Linen Duvet Cover, Queen',
      14999,
      'Pure European flax linen, washed for softness and breathable in every season. Closes with coconut shell buttons.',
    ],
    [
      'Merino Wool Throw Blanket',
      8999,
      'A generous herringbone throw woven from soft merino wool. Warm on the sofa, light enough to take outside.',
    ],
    [
      'Cedar and Sage Soy Candle',
      2499,
      'Hand-poured soy wax with a cotton wick and about 50 hours of clean burn. Comes in a reusable amber glass jar.',
    ],
    [
      'Ceramic Table Lamp',
      7999,
      'A textured ceramic base with a natural linen shade and a warm, diffused glow. Inline dimmer switch on the cord.',
    ],
    [
      'Turkish Cotton Bath Towel Set',
      4999,
      'Two bath towels, two hand towels and two washcloths in long-staple Turkish cotton. Plush, absorbent and quick to dry.',
    ],
    [
      'Woven Seagrass Storage Basket',
      3499,
      'Hand-woven seagrass with sturdy handles, sized for blankets, toys or laundry.',
    ],
    [
      'Self-Watering Indoor Herb Planter',
      2999,
      'Grows basil, mint and parsley on a sunny windowsill. The reservoir waters the roots for up to two weeks.',
    ],
    [
      'Silent Walnut Wall Clock',
      4499,
      'A solid walnut face with brass hands and a sweep movement that never ticks. 30 cm across.',
    ],
  ]),
  inCategory('toys', [
    [
      'Wooden Building Blocks, 100 Pieces',
      3999,
      'Smooth beech-wood blocks in classic shapes and non-toxic colours. Comes in a canvas storage bag.',
    ],
    [
      'Harbor Traders Strategy Board Game',
      4499,
      'Two to five players build trade routes between island ports. Games last about an hour; ages 10 and up.',
    ],
    [
      'Alpine Lake 1000-Piece Jigsaw Puzzle',
      2299,
      'A mountain lake at dawn printed on thick, snug-fitting pieces. Includes a poster of the finished image.',
    ],
    [
      'Remote Control Off-Road Truck',
      5999,
      'All-terrain tyres, independent suspension and a top speed of 30 km/h. Rechargeable battery included.',
    ],
    [
      'Plush Red Panda',
      1999,
      'A huggable 30 cm red panda in soft, washable fabric with embroidered eyes. Suitable from birth.',
    ],
    [
      'Magnetic Tile Set, 60 Pieces',
      4999,
      'Translucent magnetic tiles that snap together into towers, houses and rockets. Encourages early geometry play.',
    ],
    [
      'Beginner Chess Set with Folding Board',
      2999,
      'Weighted pieces, a folding wooden board and a booklet that teaches the rules and three classic openings.',
    ],
    [
      'Crystal Growing Science Kit',
      2499,
      'Grow seven colourful crystals in a week and learn the chemistry behind them. Ages 8 and up.',
    ],
  ]),
  inCategory('apparel', [
    [
      'Merino Wool Crew Socks, 3-Pack',
      2999,
      'Cushioned, breathable merino socks that stay fresh on long days. Reinforced heel and toe.',
    ],
    [
      'Organic Cotton Crewneck T-Shirt',
      2499,
      'A midweight tee in soft organic cotton with a relaxed fit. Pre-shrunk, so it keeps its shape.',
    ],
    [
      'Packable Waterproof Rain Jacket',
      12999,
      'A breathable three-layer shell with taped seams and an adjustable hood. Stuffs into its own chest pocket.',
    ],
    [
      'Fleece Quarter-Zip Pullover',
      6999,
      'A warm recycled fleece with a stand-up collar and a zippered chest pocket. Layers easily under a shell.',
    ],
    [
      'Full-Grain Leather Belt',
      4499,
      'Vegetable-tanned leather with a solid brass buckle. Ages to a rich patina with wear.',
    ],
    [
      'Low-Top Canvas Sneakers',
      5999,
      'Durable cotton canvas uppers on a vulcanised rubber sole. A classic that goes with everything.',
    ],
    ['Ribbed Knit Beanie', 1999, 'A soft wool-blend beanie with a fold-over cuff. One size fits most.'],
    [
      'Selvedge Denim Jeans, Slim Fit',
      9899,
      'Raw 14 oz selvedge denim woven on vintage shuttle looms. Fades to fit the way you wear them.',
    ],
  ]),
  inCategory('beauty', [
    [
      'Hydrating Face Moisturizer',
      2899,
      'A lightweight gel-cream with hyaluronic acid and squalane. Absorbs quickly and works under makeup.',
    ],
    [
      'Mineral Sunscreen SPF 30',
      1999,
      'Broad-spectrum zinc oxide protection that rubs in without a white cast. Reef-friendly and fragrance-free.',
    ],
    [
      'Vitamin C Brightening Serum',
      3499,
      'Stabilised vitamin C with ferulic acid to even out skin tone. Apply a few drops each morning.',
    ],
    [
      'Shea Butter Hand Cream',
      1299,
      'A rich, non-greasy cream for dry hands, with shea butter and a light almond scent. Pocket-sized tube.',
    ],
    [
      'Arabica Coffee Body Scrub',
      2199,
      'Finely ground coffee, brown sugar and coconut oil polish away dry skin. Leaves a warm, fresh scent.',
    ],
    [
      'Tinted Lip Balm Trio',
      999,
      'Three sheer tints with beeswax and vitamin E for soft, lightly coloured lips.',
    ],
    [
      'Boar Bristle Hair Brush',
      2499,
      'Natural boar bristles on a beech-wood paddle spread natural oils for smoother, shinier hair.',
    ],
    [
      'Argan Oil Hair Treatment',
      2699,
      'Pure cold-pressed argan oil that tames frizz and adds shine. A few drops are enough.',
    ],
  ]),
];

/** The demo products, newest first. */
export const seedProducts: readonly SeedProduct[] = takeTurns(byCategory);

function takeTurns<T>(lists: T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(...lists.map((list) => list.length));
  for (let i = 0; i < longest; i++) {
    for (const list of lists) {
      const item = list[i];
      if (item !== undefined) out.push(item);
    }
  }
  return out;
}
