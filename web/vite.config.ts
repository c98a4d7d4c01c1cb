import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web app is built into `web/dist`, which the gateway serves at `/`. In development
 * (`npm run dev -w web`), Vite proxies the API to a running gateway.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: {
    proxy: {
      '/api': process.env.BAZAAR_GATEWAY_URL ?? 'http://127.0.0.1:8080',
      '/.well-known': process.env.BAZAAR_GATEWAY_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
