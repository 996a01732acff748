// Behaviour of the Dashboard: these pass before and after a correct refactor to hooks.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import Dashboard from './Dashboard.jsx';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

test('renders the title and starts at zero', () => {
  render(<Dashboard title="Sales" />);
  expect(screen.getByRole('heading').textContent).toBe('Sales');
  expect(screen.getByTestId('Clicks').textContent).toBe('0');
  expect(screen.getByTestId('Uptime').textContent).toBe('0s');
});

test('counts clicks and resets them', () => {
  render(<Dashboard title="Sales" />);
  fireEvent.click(screen.getByText('Add'));
  fireEvent.click(screen.getByText('Add'));
  expect(screen.getByTestId('Clicks').textContent).toBe('2');
  fireEvent.click(screen.getByText('Reset'));
  expect(screen.getByTestId('Clicks').textContent).toBe('0');
});

test('shows the clicks in the document title', () => {
  render(<Dashboard title="Sales" />);
  fireEvent.click(screen.getByText('Add'));
  expect(document.title).toBe('Sales (1)');
});

test('counts the uptime every second', () => {
  render(<Dashboard title="Sales" />);
  act(() => {
    vi.advanceTimersByTime(3000);
  });
  expect(screen.getByTestId('Uptime').textContent).toBe('3s');
});

test('stops its timer when unmounted', () => {
  const { unmount } = render(<Dashboard title="Sales" />);
  expect(vi.getTimerCount()).toBe(1);
  unmount();
  expect(vi.getTimerCount()).toBe(0);
});
